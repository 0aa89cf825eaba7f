"""The one exception type for errors a user can cause (bad files, bad names, bad shapes)."""


class LabError(ValueError):
    """A problem with the user's input, worded so a person can act on it: what, expected, got."""


def choose(kind: str, name: str, options) -> str:
    """Validate a pick-one name against a registry; the single place such names are checked."""
    if name not in options:
        raise LabError(f"unknown {kind} {name!r}; choose one of {', '.join(options)}")
    return name
