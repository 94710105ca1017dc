"""Output files like a Unix tool's: what is at the path decides how it is written, and errors are one line.

Most cases run the real ``python -m derive`` in a subprocess inside ``tmp_path`` and look at the file system
afterwards: inode types, modes, contents, what else is in the folder.
"""
import errno
import os
import socket
import stat
import subprocess
import sys
import threading
from functools import partial
from pathlib import Path

import pytest

import derive.codegen.generate as generate_module
from derive import cli, files
from derive.codegen.generate import GENERATED, MARKER, generate

SHOW = ("show", "--activation", "sigmoid", "--loss", "bce")
TIMEOUT = 120


def run(*args, cwd=None, umask=None, stdout=subprocess.PIPE):
    done = subprocess.run([sys.executable, "-m", "derive", *args], cwd=cwd, stdout=stdout,
                          stderr=subprocess.PIPE, timeout=TIMEOUT,
                          preexec_fn=None if umask is None else partial(os.umask, umask))
    assert b"Traceback" not in done.stderr, done.stderr.decode()
    return done


def one_error_line(done) -> str:
    """The single 'derive: …' line of a command that failed with exit status 2."""
    assert done.returncode == 2, done.stderr.decode()
    lines = done.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("derive: "), lines
    return lines[0]


@pytest.fixture(scope="module")
def expected():
    """The derivation as plain ``derive show`` prints it to a pipe."""
    done = run(*SHOW)
    assert done.returncode == 0 and done.stderr == b"" and done.stdout.startswith(b"Weight update")
    return done.stdout


# --- standard output ------------------------------------------------------------------------------------------------
def through_the_descriptor(name):
    """Fail, before the real command runs, if ``name`` would not be written through our descriptor: a
    regression must fail here, not replace the machine's /dev/stdout (or /dev/null) with a regular file."""
    plan = files._plan(name)
    assert plan.func is files._to_descriptor, f"{name} would be written by {plan.func.__name__}"


@pytest.mark.parametrize("name", ["-", "/dev/stdout", "/dev/fd/1", "link-to-fd-1"])
def test_standard_output_names_print_what_show_prints(expected, tmp_path, name):
    (tmp_path / "link-to-fd-1").symlink_to("/proc/self/fd/1")
    through_the_descriptor(name if name == files.STDOUT else tmp_path / name)  # tmp_path / "/dev/…" is "/dev/…"
    done = run(*SHOW, "--output", name, cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, expected, b"")
    assert os.listdir(tmp_path) == ["link-to-fd-1"] and (tmp_path / "link-to-fd-1").is_symlink()


def test_dev_stdout_appends_through_the_descriptor(expected, tmp_path):
    log = tmp_path / "log.txt"
    log.write_bytes(b"earlier lines\n")
    through_the_descriptor("/dev/stdout")
    with open(log, "ab") as appending:
        assert run(*SHOW, "--output", "/dev/stdout", cwd=tmp_path, stdout=appending).returncode == 0
    assert log.read_bytes() == b"earlier lines\n" + expected


# --- regular files: replaced atomically, with the usual permissions ---------------------------------------------------
@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600)])
def test_a_new_file_gets_the_mode_the_umask_gives(expected, tmp_path, umask, mode):
    done = run(*SHOW, "--output", "out.txt", cwd=tmp_path, umask=umask)
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
    assert stat.S_IMODE((tmp_path / "out.txt").stat().st_mode) == mode
    assert (tmp_path / "out.txt").read_bytes() == expected and os.listdir(tmp_path) == ["out.txt"]


def test_a_replaced_file_keeps_its_own_mode_and_is_a_new_inode(expected, tmp_path):
    out = tmp_path / "out.txt"
    out.write_bytes(b"old")
    out.chmod(0o640)
    before = out.stat().st_ino
    assert run(*SHOW, "--output", str(out), umask=0o077).returncode == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o640 and out.read_bytes() == expected
    assert out.stat().st_ino != before, "written in place, not replaced atomically"


@pytest.mark.parametrize("failure", [KeyboardInterrupt, OSError(errno.EIO, "Input/output error")])
def test_a_failed_replacement_keeps_the_old_file_and_no_temporary(tmp_path, monkeypatch, failure):
    out = tmp_path / "out.txt"
    out.write_bytes(b"old")

    def refuse(source, target):
        assert Path(source).name.startswith(".out.txt.") and Path(source).read_bytes() == b"new", "not all written"
        raise failure

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(KeyboardInterrupt if failure is KeyboardInterrupt else files.CannotWrite):
        files.write_output(out, b"new")
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["out.txt"] and out.read_bytes() == b"old"


def test_a_read_only_file_is_refused_and_left_alone(tmp_path):
    out = tmp_path / "out.txt"
    out.write_bytes(b"keep me")
    out.chmod(0o444)
    before = out.stat()
    line = one_error_line(run(*SHOW, "--output", str(out)))
    assert line == (f"derive: cannot write {str(out)!r}: it is read-only (mode 0444); "
                    "make it writable (chmod u+w) or choose another file")
    after = out.stat()
    assert out.read_bytes() == b"keep me" and (after.st_ino, after.st_mode) == (before.st_ino, before.st_mode)
    assert os.listdir(tmp_path) == ["out.txt"]


# --- symlinks: written through ---------------------------------------------------------------------------------------
def test_a_symlink_is_written_through(expected, tmp_path):
    (tmp_path / "target.txt").write_bytes(b"old")
    (tmp_path / "target.txt").chmod(0o604)
    (tmp_path / "link").symlink_to("target.txt")
    assert run(*SHOW, "--output", "link", cwd=tmp_path).returncode == 0
    assert (tmp_path / "link").is_symlink() and os.readlink(tmp_path / "link") == "target.txt"
    assert (tmp_path / "target.txt").read_bytes() == expected
    assert stat.S_IMODE((tmp_path / "target.txt").stat().st_mode) == 0o604
    assert sorted(os.listdir(tmp_path)) == ["link", "target.txt"]


def test_a_dangling_symlink_creates_its_target(expected, tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "link").symlink_to("sub/made.txt")
    assert run(*SHOW, "--output", "link", cwd=tmp_path).returncode == 0
    assert (tmp_path / "link").is_symlink() and (tmp_path / "sub" / "made.txt").read_bytes() == expected


# --- devices, FIFOs and sockets: written in place, never replaced -----------------------------------------------------
def test_dev_null_stays_a_character_device():
    if os.geteuid() != 0:
        pytest.skip("only root could replace /dev/null")
    plan = files._plan("/dev/null")  # checked first, as in through_the_descriptor()
    assert plan.func is files._in_place, f"/dev/null would be written by {plan.func.__name__}"
    before = os.stat("/dev/null")
    done = run(*SHOW, "--output", "/dev/null")
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)


def test_a_fifo_is_written_in_place_for_its_reader(expected, tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    done = run(*SHOW, "--output", str(fifo))
    reader.join(TIMEOUT)
    if reader.is_alive():  # the FIFO was renamed over: free the reader before failing
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    assert done.returncode == 0 and received == [expected]
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and os.listdir(tmp_path) == ["fifo"]


def test_a_unix_socket_receives_the_bytes(tmp_path):
    path = tmp_path / "socket"
    received = []
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(path))
        server.listen(1)
        server.settimeout(TIMEOUT)

        def serve():
            connection, _ = server.accept()
            with connection:
                received.append(b"".join(iter(lambda: connection.recv(65536), b"")))

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        files.write_output(path, b"through the socket")
        thread.join(TIMEOUT)
    assert received == [b"through the socket"] and stat.S_ISSOCK(path.lstat().st_mode)


# --- refusals: one line, exit 2, nothing written ----------------------------------------------------------------------
@pytest.mark.parametrize("pdf, output", [("same.out", "same.out"), ("same.out", "./sub/../same.out"),
                                         ("link", "same.out"), ("-", "-"), ("-", "fd1")])
def test_pdf_and_output_naming_one_file_are_refused_before_any_work(tmp_path, pdf, output):
    (tmp_path / "sub").mkdir()
    (tmp_path / "same.out").write_bytes(b"old")
    (tmp_path / "link").symlink_to("same.out")
    (tmp_path / "fd1").symlink_to("/proc/self/fd/1")  # what /dev/stdout is, without risking the real one
    line = one_error_line(run(*SHOW, "--pdf", pdf, "--output", output, cwd=tmp_path))
    assert line == f"derive: --pdf and --output both name {output!r}; give them different files"
    assert (tmp_path / "same.out").read_bytes() == b"old"
    assert sorted(os.listdir(tmp_path)) == ["fd1", "link", "same.out", "sub"]


@pytest.mark.parametrize("path, reason", [
    ("/proc/version", "it is read-only (mode 0444)"),          # read-only even for root
    ("/sys/kernel/derive-test.txt", "Permission denied (errno 13)"),  # a folder nobody may create files in
    ("/proc/derive-test.txt", "No such file or directory (errno 2)"),
    ("{tmp}/file.txt/out.txt", "Not a directory (errno 20)"),
    ("{tmp}/missing/out.txt", "the folder '{tmp}/missing' does not exist"),
    ("{tmp}", "it is a folder; give a file name"),
])
def test_a_path_that_cannot_be_written_is_one_line(tmp_path, path, reason):
    (tmp_path / "file.txt").write_bytes(b"")
    path, reason = path.format(tmp=tmp_path), reason.format(tmp=tmp_path)
    line = one_error_line(run(*SHOW, "--output", path, cwd=tmp_path))
    assert line.startswith(f"derive: cannot write {path!r}: {reason}"), line
    assert os.listdir(tmp_path) == ["file.txt"]


@pytest.mark.parametrize("argv, message", [
    (("verify", "--seed", "-1"), "--seed must be a whole number from 0 to 4294967295, not '-1'"),
    (("verify", "--seed", "4294967296"), "--seed must be a whole number from 0 to 4294967295, not '4294967296'"),
    (("verify", "--seed", "1.5"), "--seed must be a whole number from 0 to 4294967295, not '1.5'"),
    ((*SHOW, "--model", "mlp", "--layers", "0"), "--layers must be a whole number from 1 to 8, not '0'"),
])
def test_a_number_out_of_range_is_one_line(argv, message):
    assert one_error_line(run(*argv)) == f"derive: {message}"


def test_the_ends_of_the_seed_range_are_accepted():
    parser = cli.build_parser()
    assert [parser.parse_args(["verify", "--seed", s]).seed for s in ("0", "4294967295")] == [0, 2**32 - 1]


# --- derive generate: leftovers of a killed run, a read-only checkout -------------------------------------------------
@pytest.fixture
def checkout(tmp_path, monkeypatch):
    """A copy of generated/'s modules, with generate() replaying them instead of rendering the registry again."""
    directory = tmp_path / "generated"
    directory.mkdir()
    sources = {path.name: path.read_text("utf-8") for path in sorted(GENERATED.glob("*.py"))
               if path.read_text("utf-8").startswith(MARKER)}
    for name, text in sources.items():
        (directory / name).write_text(text, "utf-8")
    monkeypatch.setattr(generate_module, "render_all", lambda progress=None: dict(sources))
    monkeypatch.setattr(generate_module, "generate", partial(generate, directory))  # what the CLI calls
    return directory, sorted(sources)


def test_leftover_temporary_files_are_stale_then_removed(checkout, capsys):
    directory, names = checkout
    leftovers = [f".{names[0]}.tmpk3x_9a1.tmp", f".{names[-1]}.0f3a9c2e.tmp"]  # mkstemp's names, and ours
    for name in leftovers:
        (directory / name).write_text("half a module")
    (directory / ".notes.tmp").write_text("not ours")

    assert cli.main(["generate", "--check"]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == [f"stale: generated/{name} is a temporary file left by an interrupted run"
                                for name in sorted(leftovers)]
    assert all((directory / name).exists() for name in leftovers), "--check removed a file"

    assert cli.main(["generate"]) == 0
    out, err = capsys.readouterr()
    assert err.splitlines() == [f"removed {name}: a temporary file left by an interrupted run"
                                for name in sorted(leftovers)]
    assert sorted(os.listdir(directory)) == sorted([".notes.tmp", *names])
    assert cli.main(["generate", "--check"]) == 0


def test_a_read_only_checkout_is_one_line(checkout, monkeypatch, capsys):
    directory, names = checkout
    (directory / names[0]).write_text("# out of date\n")

    def read_only(path, flags, mode=0o777, **kwargs):
        if flags & os.O_CREAT:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), path)
        return real_open(path, flags, mode, **kwargs)

    real_open = os.open
    monkeypatch.setattr(os, "open", read_only)
    assert cli.main(["generate"]) == 2
    monkeypatch.setattr(os, "open", real_open)
    out, err = capsys.readouterr()
    assert err == (f"derive: cannot write {directory}{os.sep}: Read-only file system (errno 30); make it writable, "
                   "or list what is stale without writing: python -m derive generate --check\n")
    assert (directory / names[0]).read_text() == "# out of date\n" and len(os.listdir(directory)) == len(names)
