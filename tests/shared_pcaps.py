"""Where the shared real captures are: ../shared/pcaps beside the repository (the CI layout), else /work/shared."""

from pathlib import Path

_REPO = Path(__file__).resolve().parents[1]
SHARED_PCAPS = next(
    (p for p in (_REPO.parent / "shared" / "pcaps", Path("/work/shared/pcaps")) if p.is_dir()),
    _REPO.parent / "shared" / "pcaps",
)
