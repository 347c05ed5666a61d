"""Engines that run the registered detectors somewhere other than this process (Apache Spark).

An engine is a callable with `detection.run.run_detectors`'s signature: it gets the prepared
context and returns the same alert frame, so the registry stores its alerts the same way.
"""
