"""MIDI ports: no ports, a port list raising OSError, a port getting the player's messages."""

from __future__ import annotations

import mido
import pytest

from workbench.playback import outputs
from workbench.playback.clock import JumpClock
from workbench.playback.events import NoteEvent, tune_from_notes
from workbench.playback.outputs import PortError, PortList, PortOutput, list_output_ports
from workbench.playback.player import Player


class FakePort(mido.ports.BaseOutput):
    """A mido output port that keeps what it is sent (mido's own port base class)."""

    def _open(self, **kwargs):
        self.received = []

    def _send(self, message):
        self.received.append(message)


def test_the_systems_port_list_never_raises():
    ports = list_output_ports()
    assert isinstance(ports, PortList)
    if ports.error:  # this machine: no ALSA sequencer
        assert ports.names == ()
        assert ports.status.startswith("No MIDI ports: the MIDI system is not available")
    else:
        assert all(isinstance(name, str) for name in ports.names)


@pytest.mark.parametrize("error", [OSError("no /dev/snd/seq"), RuntimeError("backend died")])
def test_a_port_list_raising_is_the_no_ports_state(monkeypatch, error):
    def failing():
        raise error

    monkeypatch.setattr(outputs.mido, "get_output_names", failing)
    ports = list_output_ports()
    assert ports == PortList((), f"the MIDI system is not available ({error})")
    monkeypatch.setattr(outputs.mido, "get_output_names", lambda: [])
    assert list_output_ports().status == "No MIDI ports"


def test_opening_a_port_that_fails_is_a_port_error(monkeypatch):
    def failing(name=None, virtual=False):
        raise OSError("error creating ALSA sequencer client object")

    monkeypatch.setattr(outputs.mido, "open_output", failing)
    with pytest.raises(PortError, match="cannot open MIDI port 'Synth 1'"):
        PortOutput.open("Synth 1")
    with pytest.raises(PortError, match="virtual MIDI port"):
        PortOutput.open_virtual()


def test_a_port_gets_the_players_messages_and_closing_resets_it(monkeypatch):
    fake = FakePort()
    monkeypatch.setattr(outputs.mido, "open_output", lambda name, virtual=False: fake)
    port = PortOutput.open("Synth 1")
    clock = JumpClock()
    player = Player(port, clock)
    player.load(tune_from_notes([NoteEvent(0.0, 0.5, 64, 90, channel=3)], {3: 24}))
    clock.at(0.25, player.stop)
    player.play()
    assert player.wait(2)
    player.close()
    assert [m.bytes() for m in fake.received] == [
        [0xC3, 24],
        [0xB3, 7, 127],
        [0x93, 64, 90],
        [0x83, 64, 0],
        [0xB3, 123, 0],
    ]
    port.close()
    assert fake.closed
    # mido's reset(): all-notes-off and reset-controllers on all 16 channels.
    assert sum(m.type == "control_change" and m.control == 123 for m in fake.received) == 1 + 16
