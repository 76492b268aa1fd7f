"""Write .env for the team deployment from .env.example, with fresh random secrets (``make deploy-env``).

Every ``replace-with-...`` value becomes a new secret (the Fernet key a real one); everything else is kept.
An existing .env is never overwritten: secrets in it may already encrypt connections.
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent


def fill(template: str) -> str:
    lines = []
    for line in template.splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith("#") and value.startswith("replace-with-"):
            value = Fernet.generate_key().decode() if value == "replace-with-a-fernet-key" else secrets.token_urlsafe(24)
            line = f"{key}={value}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def main() -> int:
    target = ROOT / ".env"
    if target.exists():
        print(f"{target} exists; not overwritten", file=sys.stderr)
        return 1
    target.write_text(fill((ROOT / ".env.example").read_text(encoding="utf-8")), encoding="utf-8")
    target.chmod(0o600)
    print(f"wrote {target} with new secrets; edit the platform credentials in it before a real night")
    return 0


if __name__ == "__main__":
    sys.exit(main())
