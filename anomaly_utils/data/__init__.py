"""Data: toy sets, the credit-card loader, benchmark files and splits."""

from .creditcard import (
    CREDITCARD_COLUMNS,
    FEATURE_COLUMNS,
    LABEL_COLUMN,
    OPENML_URL,
    CreditCardData,
    CreditCardDataError,
    load_creditcard,
    make_synthetic_creditcard,
    read_creditcard_csv,
    validate_creditcard_frame,
)
from .splits import TIME_MODES, Splits, split_creditcard, stratified_split
from .toy import (
    TOY_DATASETS,
    TOY_TITLES,
    make_imbalanced_dataset,
    make_toy_dataset,
    make_toy_datasets,
)

__all__ = [
    "CREDITCARD_COLUMNS",
    "FEATURE_COLUMNS",
    "LABEL_COLUMN",
    "OPENML_URL",
    "TIME_MODES",
    "TOY_DATASETS",
    "TOY_TITLES",
    "CreditCardData",
    "CreditCardDataError",
    "Splits",
    "load_creditcard",
    "make_imbalanced_dataset",
    "make_synthetic_creditcard",
    "make_toy_dataset",
    "make_toy_datasets",
    "read_creditcard_csv",
    "split_creditcard",
    "stratified_split",
    "validate_creditcard_frame",
]
