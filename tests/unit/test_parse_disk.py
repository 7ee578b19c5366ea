"""parse_disk_output on df outputs as real systems print them."""

from __future__ import annotations

import subprocess

import pytest

from celerytui.checks import df_command, parse_disk_output

# GNU coreutils `df -P -B1` with several filesystems (captured on a Debian host).
GNU_B1_MANY = """\
Filesystem                  1-blocks        Used   Available Capacity Mounted on
devtmpfs                 12630487040           0 12630487040       0% /dev
tmpfs                    25276502016     1077248 25275424768       1% /dev/shm
/dev/vda                270553174016 23786971136 85157322752      22% /
tmpfs                    12638248960           0 12638248960       0% /sys/fs/cgroup
"""

# `df -P` on macOS / BSD: 512-byte blocks, and a mount point with a space in it.
BSD_512 = """\
Filesystem     512-blocks      Used Available Capacity  Mounted on
/dev/disk3s1s1  965595304  19889872 402519952     5%    /
/dev/disk3s5    965595304 530278384 402519952    57%    /System/Volumes/Data
/dev/disk5s1       409600    192504    217096    47%    /Volumes/My Disk
"""

# Plain `df` (not -P) wraps a long device name onto its own line.
WRAPPED = """\
Filesystem           1K-blocks      Used Available Use% Mounted on
/dev/mapper/vg_monitoring_server01-lv_root
                      51475068  46291400   2546228  95% /
tmpfs                   817820         0    817820   0% /dev/shm
"""


def test_gnu_bytes_picks_the_root_line_among_several():
    row = parse_disk_output(GNU_B1_MANY)
    assert row == {
        "filesystem": "/dev/vda",
        "size_bytes": 270553174016,
        "used_bytes": 23786971136,
        "avail_bytes": 85157322752,
        "use_percent": 22.0,
        "mount": "/",
    }


def test_mount_selects_its_line():
    row = parse_disk_output(GNU_B1_MANY, mount="/dev/shm")
    assert (row["filesystem"], row["used_bytes"], row["use_percent"]) == ("tmpfs", 1077248, 1.0)


def test_bsd_512_blocks_are_converted_to_bytes_and_spaces_in_mounts_kept():
    row = parse_disk_output(BSD_512, mount="/Volumes/My Disk")
    assert row["size_bytes"] == 409600 * 512
    assert row["avail_bytes"] == 217096 * 512
    assert row["use_percent"] == 47.0
    assert parse_disk_output(BSD_512)["filesystem"] == "/dev/disk3s1s1"


def test_wrapped_long_device_name_is_joined():
    row = parse_disk_output(WRAPPED)
    assert row["filesystem"] == "/dev/mapper/vg_monitoring_server01-lv_root"
    assert row["size_bytes"] == 51475068 * 1024
    assert row["use_percent"] == 95.0
    assert row["mount"] == "/"


def test_dash_capacity_is_computed_from_used_and_available():
    out = "Filesystem 1-blocks Used Available Capacity Mounted on\nproc 100 25 75 - /proc\n"
    assert parse_disk_output(out)["use_percent"] == 25.0


def test_live_df_on_this_machine_matches_df_itself():
    out = subprocess.run(
        ["sh", "-c", df_command("/")], capture_output=True, text=True, check=True
    ).stdout
    row = parse_disk_output(out)
    fields = out.splitlines()[1].split()
    assert row["mount"] == "/"
    assert row["size_bytes"] == int(fields[1])
    assert row["filesystem"] == fields[0]


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("", "df output is empty"),
        ("df: /nope: No such file or directory\n", "no header line"),
        ("Filesystem 1-blocks Used Available Capacity Mounted on\n", "no filesystem lines"),
        (
            "Filesystem 1-blocks Used Available Capacity Mounted on\n/dev/x lots of garbage here\n",
            "cannot parse df line",
        ),
        (
            "Filesystem 1-blocks Used Available Capacity Mounted on\n/dev/very/long/name\n",
            "with no numbers",
        ),
        (
            "Filesystem 1Q-blocks Used Available Capacity Mounted on\n/dev/x 1 1 1 1% /\n",
            "unknown block size",
        ),
    ],
)
def test_garbage_raises_a_clear_value_error(output, message):
    with pytest.raises(ValueError, match=message) as info:
        parse_disk_output(output)
    assert "\n" not in str(info.value)


def test_missing_mount_is_a_clear_error():
    with pytest.raises(ValueError, match="no filesystem mounted at '/srv'"):
        parse_disk_output(GNU_B1_MANY, mount="/srv")
