"""The one exception the command turns into a single line on stderr and exit 1."""


class Problem(Exception):
    """A refusal or failure the admin must read; names the file when there is one."""

    def __init__(self, message, path=None):
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)
