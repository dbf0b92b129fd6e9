"""Data: toy sets, the credit-card loader, benchmark files and splits."""
