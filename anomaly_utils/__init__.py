"""Loaders, detectors, evaluation and figures for the anomaly detection suite.

Every detector follows one contract: ``score_samples`` returns higher values
for more anomalous samples and ``predict`` returns 1 for an anomaly and 0 for
a normal sample. See :mod:`anomaly_utils.models`.
"""

import logging
import os

# Keras 3 picks its backend at import time; this suite is written for
# TensorFlow, so set it before anything imports keras.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
