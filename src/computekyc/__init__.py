"""computekyc: know who is really renting export-controlled AI compute."""

__version__ = "0.1.0"
