"""A bridge that cannot serve as configured says why at start and exits non-zero.

Each case is a mistake a user makes on day one: a typo in the config file, a broker that is not
there, a journal in a folder that does not exist. The message must name the cause; the password of
the broker URL must not appear.
"""
import json
import subprocess

from conftest import bridge_binary


def serve(tmp_path, *args, timeout=30):
    p = subprocess.run([bridge_binary(), "serve", "--journal", str(tmp_path / "journal.sqlite"),
                        "--work-root", "/tmp/golem-bridge-e2e/startup", *args],
                       capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stderr


def test_a_typo_in_the_config_file_is_refused_naming_the_key(tmp_path):
    config = tmp_path / "bridge.json"
    config.write_text(json.dumps({"concurrency": 2, "retention-hour": 24}))
    code, err = serve(tmp_path, "--config", str(config))
    assert code != 0
    assert 'unknown setting "retention-hour"; did you mean "retention-hours"?' in err, err


def test_an_unreachable_broker_is_an_error_naming_it_without_the_password(tmp_path):
    code, err = serve(tmp_path, "--amqp-url", "amqp://guest:sup3r-secret@127.0.0.1:1/")
    assert code == 1
    assert "could not connect to 127.0.0.1:1" in err.splitlines()[-1], err
    assert "sup3r-secret" not in err
    assert "ServiceGroupError" not in err and "CancellationError" not in err, err


def test_a_journal_in_a_missing_folder_is_an_error_naming_the_path():
    p = subprocess.run([bridge_binary(), "serve", "--journal", "/nonexistent-golem-bridge/j.sqlite"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1
    assert "cannot open the journal /nonexistent-golem-bridge/j.sqlite" in p.stderr, p.stderr
