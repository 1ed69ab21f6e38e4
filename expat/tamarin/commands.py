"""Sub-commands `tamarin export|check` and `prove` (issue 5; being built)."""


def register(sub) -> None:  # noqa: D401
    return None
