"""Sub-commands `bench`, `soak`, `report` (issue 8; being built)."""


def register(sub) -> None:  # noqa: D401
    return None
