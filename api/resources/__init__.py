"""The resources of the API, one blueprint (`blp`) per module."""
