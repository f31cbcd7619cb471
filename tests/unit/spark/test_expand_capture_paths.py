"""How the `pcap` source and the ingest job turn path arguments into files (no Spark needed)."""

from __future__ import annotations

import pytest

from netqos.spark.datasource import expand_capture_paths, parse_mode

pytestmark = pytest.mark.unit


@pytest.fixture
def folder(tmp_path):
    for name in ("a.pcap", "b.pcapng", "c.CAP", "README.md", "trace[1].pcap"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "d.pcap").write_bytes(b"x")
    return tmp_path


def test_directory_lists_capture_files_only_not_recursive(folder):
    got = expand_capture_paths([str(folder)])
    assert got == sorted(str(folder / n) for n in ("a.pcap", "b.pcapng", "c.CAP", "trace[1].pcap"))


def test_glob_and_files_are_taken_as_named_and_deduplicated(folder):
    got = expand_capture_paths([str(folder / "*.md"), str(folder / "a.pcap"), str(folder / "a.pcap"), " "])
    assert got == [str(folder / "README.md"), str(folder / "a.pcap")]


def test_existing_file_with_glob_characters_is_a_file(folder):
    assert expand_capture_paths([str(folder / "trace[1].pcap")]) == [str(folder / "trace[1].pcap")]


def test_relative_paths_become_absolute(folder, monkeypatch):
    monkeypatch.chdir(folder)
    assert expand_capture_paths(["a.pcap"]) == [str(folder / "a.pcap")]


@pytest.mark.parametrize("spec", ["missing.pcap", "*.nothing"])
def test_nothing_found_is_an_error(folder, spec):
    with pytest.raises(FileNotFoundError, match="no capture file"):
        expand_capture_paths([str(folder / spec)])


def test_mode_option():
    assert parse_mode(None) == "PERMISSIVE"
    assert parse_mode("failfast") == "FAILFAST"
    with pytest.raises(ValueError, match="PERMISSIVE or FAILFAST"):
        parse_mode("DROPMALFORMED")
