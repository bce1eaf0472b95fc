"""User-facing errors: each carries one clear sentence; the CLI prints it and exits 2."""


class FacecueError(Exception):
    """Base class for mistakes a user can fix (bad input, missing file, bad option)."""


class InputError(FacecueError):
    """An input file or folder is missing, unreadable or not what was expected."""


class ModelError(FacecueError):
    """A model file is missing, corrupt or does not match its sidecar."""


class OutputError(FacecueError):
    """An output location cannot be written."""
