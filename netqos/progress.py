"""Progress bars for long CLI work (rich), sized in bytes of input."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def byte_progress(files: Sequence[Path], *, enabled: bool) -> Iterator[Callable[[Path], None]]:
    """Yields `advance(path)`, to call once per finished file."""
    if not enabled:
        yield lambda _path: None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn

    total = sum(p.stat().st_size for p in files if p.is_file())
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task("decoding", total=total)

        def advance(path: Path) -> None:
            bar.update(task, advance=path.stat().st_size if path.is_file() else 0, description=path.name[:30])

        yield advance
