"""The sample application every chapter of the course works against."""
