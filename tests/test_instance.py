"""Single instance: `photoclip search` asks the running app or `photoclip watch` over a user-only local
socket when one serves the library, and works on its own when none does."""

from __future__ import annotations

import json
import os
import socket
import stat
from pathlib import Path

import pytest

from photoclip import instance
from photoclip.cli import main, search_cmds
from photoclip.search import Searcher
from photoclip.store.catalog import Catalog
from tests.fakes import FakeEmbedder, add_photo, axis_vector

pytestmark = pytest.mark.skipif(not instance.available(), reason="no Unix sockets here")


class Served:
    """What the server side needs of a library: its folder and search."""

    def __init__(self, directory: Path, searcher: Searcher) -> None:
        self.directory = directory
        self.searcher = searcher
        self.queries: list[str] = []
        self.languages: list[object] = []

    def search(self, query: str, **kw: object):  # type: ignore[no-untyped-def]
        self.queries.append(query)
        self.languages.append(kw.get("language"))
        kw.pop("place", None)
        return self.searcher.search(query, **kw)  # type: ignore[arg-type]

    def similar(self, target: object, **kw: object):  # type: ignore[no-untyped-def]
        return self.searcher.similar(target, **kw)  # type: ignore[arg-type]


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    run = tmp_path / "run"
    run.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(run))
    lib_dir = tmp_path / "lib"
    catalog = Catalog(lib_dir / "catalog.sqlite3")
    folder = catalog.add_folder(tmp_path / "pics")
    add_photo(catalog, folder.id, tmp_path / "pics" / "dog.jpg", axis_vector("dog"))
    add_photo(catalog, folder.id, tmp_path / "pics" / "beach.jpg", axis_vector("beach"))
    lib = Served(lib_dir, Searcher(catalog, FakeEmbedder(), lib_dir, background=False))
    yield lib
    lib.searcher.close()
    catalog.close()


def test_the_cli_asks_a_running_instance(served: Served, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    def no_local_library(args):  # type: ignore[no-untyped-def]
        raise AssertionError("the command opened the library although an instance serves it")

    monkeypatch.setattr(search_cmds, "open_library", no_local_library)
    with instance.InstanceServer(served) as server:  # type: ignore[arg-type]
        assert server.path is not None
        assert stat.S_IMODE(server.path.stat().st_mode) == 0o600
        assert stat.S_IMODE(server.path.parent.stat().st_mode) == 0o700
        assert main(["--library", str(served.directory), "search", "dog", "--json", "--top", "1"]) == 0
        rows = json.loads(capsys.readouterr().out)
        assert [Path(r["path"]).name for r in rows] == ["dog.jpg"]
        assert served.queries == ["dog"] and server.served == 1
        assert main(["--library", str(served.directory), "search", "Hund", "--language", "deu_Latn"]) == 0
        assert served.languages == [None, "deu_Latn"]  # sent only when given: else the instance's setting
    assert not server.path.exists()  # the socket goes with the instance


def test_errors_from_the_instance_are_reported(served: Served, capsys) -> None:  # type: ignore[no-untyped-def]
    with instance.InstanceServer(served):  # type: ignore[arg-type]
        assert main(["--library", str(served.directory), "search", "   "]) == 1
    assert "empty" in capsys.readouterr().err


def test_without_an_instance_the_cli_searches_itself(served: Served, monkeypatch: pytest.MonkeyPatch,
                                                      capsys) -> None:  # type: ignore[no-untyped-def]
    opened = []

    class Local(Served):
        build_graph = True

        def __enter__(self):  # type: ignore[no-untyped-def]
            return self

        def __exit__(self, *exc: object) -> None:
            pass

    local = Local(served.directory, served.searcher)

    def open_local(args):  # type: ignore[no-untyped-def]
        opened.append(args.library)
        return local

    monkeypatch.setattr(search_cmds, "open_library", open_local)
    # a socket file left by an instance that died: nobody answers, the command goes on alone
    path = instance.socket_path(served.directory, create=True)
    assert path is not None
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(path))
    dead.close()
    assert main(["--library", str(served.directory), "search", "beach", "--top", "1"]) == 0
    assert Path(capsys.readouterr().out.split()[1]).name == "beach.jpg"
    assert opened == [str(served.directory)] and local.queries == ["beach"]
    assert local.build_graph is False  # a one-shot search never starts a graph build


def test_a_second_instance_leaves_the_first_serving(served: Served) -> None:
    with instance.InstanceServer(served) as first:  # type: ignore[arg-type]
        second = instance.InstanceServer(served)  # type: ignore[arg-type]
        assert second.start() is False
        assert instance.ask(served.directory, {"op": "ping"}) == {"ok": True, "pid": os.getpid()}
        assert first.served == 0


def test_a_folder_others_may_enter_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = tmp_path / "run"
    run.mkdir()
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(run))
    (run / "photoclip").mkdir(mode=0o755)
    os.chmod(run / "photoclip", 0o755)
    assert instance.socket_path(tmp_path / "lib", create=True) is None
