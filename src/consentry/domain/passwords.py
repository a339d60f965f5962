"""Which staff passwords are taken: at least 12 characters, and not guessable.

Guessability is zxcvbn's estimate (Dropbox's, from frequency lists of leaked passwords,
English words, names, keyboard walks, repeats, sequences and dates), not a hand-made list:
``aaaaaaaaaaaa``, ``password1234`` and ``qwertyuiopas`` are refused, a passphrase of a few
unrelated words is taken."""

from __future__ import annotations

from zxcvbn import zxcvbn

from consentry.domain.errors import InvalidInput

MIN_LENGTH = 12
# zxcvbn's scale: 3 is "safely unguessable: moderate protection from offline slow-hash
# scenario" (fewer than 10^10 guesses would not find it).
MIN_SCORE = 3


def check_password(password: str, *, about: list[str]) -> None:
    """Refuse a weak password; ``about``: the account's own words (user name, name), which
    make a password guessable too."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"a password has at least {MIN_LENGTH} characters")
    # zxcvbn's cost grows with the length; past 100 characters nothing more is learnt.
    verdict = zxcvbn(password[:100], user_inputs=about)
    if verdict["score"] < MIN_SCORE:
        warning = verdict["feedback"].get("warning") or "it is easy to guess"
        raise InvalidInput(
            f"this password is too easy to guess ({warning.rstrip('.')}): "
            "a few unrelated words make a strong one"
        )
