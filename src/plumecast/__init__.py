"""plumecast: hazardous gas release forecasting."""

__version__ = "0.1.0"

