"""Errors raised by domain rules; the API maps them to 4xx answers."""


class DomainError(ValueError):
    """A rule was broken by the input; the message says what and why."""


class InvalidCameraUrl(DomainError):
    """A camera stream URL cannot be used."""
