from plumecast.cli.entry import main

main()
