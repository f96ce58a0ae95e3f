from plumecast.cli import main

main()
