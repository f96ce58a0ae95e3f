"""plumecast: hazardous gas release forecasting."""

__version__ = "0.1.0"



def __getattr__(name: str):  # lazy: keep `import plumecast` light
    if name in ("assess", "assess_grid"):
        from plumecast import consequence as _consequence

        return getattr(_consequence, name)
    raise AttributeError(f"module 'plumecast' has no attribute {name!r}")
