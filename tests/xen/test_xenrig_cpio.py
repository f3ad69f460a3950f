"""The appended-initramfs writer, checked against GNU cpio's reader (no QEMU needed)."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import cpio  # noqa: E402


def test_gnu_cpio_extracts_files_dirs_and_modes(tmp_path):
    data = cpio.archive({
        '/guest/hello.xl': (b'name = "hello"\n', 0o644),
        '/ci.sh': (b'echo hi\n', 0o755),
        '/guest/deep/odd.bin': (bytes(range(256)) * 3 + b'x', 0o600),  # length not a multiple of 4
    })
    assert len(data) % 4 == 0
    subprocess.run(['cpio', '-idm', '--quiet', '--no-absolute-filenames'], input=data,
                   cwd=tmp_path, check=True)
    assert (tmp_path / 'guest/hello.xl').read_bytes() == b'name = "hello"\n'
    assert (tmp_path / 'ci.sh').read_bytes() == b'echo hi\n'
    assert (tmp_path / 'guest/deep/odd.bin').read_bytes() == bytes(range(256)) * 3 + b'x'
    assert os.stat(tmp_path / 'ci.sh').st_mode & 0o777 == 0o755
    assert os.stat(tmp_path / 'guest/deep/odd.bin').st_mode & 0o777 == 0o600
    assert (tmp_path / 'guest/deep').is_dir()


def test_listing_has_parents_before_children_and_a_trailer():
    data = cpio.archive({'/a/b/c': (b'1', 0o644), '/a/d': (b'2', 0o644)})
    names = subprocess.run(['cpio', '-it', '--quiet'], input=data, capture_output=True,
                           check=True).stdout.decode().split()
    assert names == ['a', 'a/b', 'a/b/c', 'a/d']
    assert data.rstrip(b'\0').endswith(b'TRAILER!!!')


def test_relative_paths_are_refused():
    try:
        cpio.archive({'guest/x': (b'', 0o644)})
    except ValueError:
        return
    raise AssertionError('a relative path was accepted')
