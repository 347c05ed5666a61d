"""Pure detection over polars frames: name/structure screening and volume/behaviour detectors.

This package imports neither sqlalchemy nor streamlit; the registry feeds it frames and
stores what it returns.
"""
