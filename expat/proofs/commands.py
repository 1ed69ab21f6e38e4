"""Sub-commands `proofs run` (issue 5; being built)."""


def register(sub) -> None:  # noqa: D401
    return None
