"""The transport bar with a recording output and a clock the test moves by hand."""

from __future__ import annotations

import io

import mido
import pytest
from PySide6.QtCore import Qt

from workbench.playback import outputs as outputs_module
from workbench.playback.clock import ManualClock
from workbench.playback.outputs import PortList, RecordingOutput
from workbench.playback.player import State
from workbench.session import NoteHighlight, PlayRequest, Session

SCALE = """X:1
T:Scale
M:4/4
L:1/4
Q:1/4=120
K:D
DEFG|ABcd|]
"""


@pytest.fixture
def rig(qtbot):
    from workbench.ui.panes.playback_pane import PlaybackPane

    session = Session()
    clock = ManualClock()
    out = RecordingOutput(clock.now)
    pane = PlaybackPane(session, clock=clock, output=out)
    qtbot.addWidget(pane)
    yield session, clock, out, pane
    pane.shutdown()


def note_ons(out):
    return [m.note for m in out.messages if m.type == "note_on"]


def test_a_play_request_loads_plays_moves_the_slider_and_stop_resets(qtbot, rig):
    session, clock, out, pane = rig
    highlights = []
    session.playback_highlight.connect(highlights.append)
    session.request_play(PlayRequest("Scale", abc=SCALE))
    qtbot.waitUntil(lambda: pane.player.state is State.PLAYING, timeout=10000)
    assert pane.title_label.text() == "Scale"
    assert pane.piano_roll.note_count == 8
    assert pane.slider.maximum() == 4000
    clock.advance(1.0)
    qtbot.waitUntil(lambda: note_ons(out) == [62, 64, 66], timeout=3000)
    qtbot.waitUntil(lambda: pane.slider.value() == 1000, timeout=3000)
    assert pane.time_label.text() == "0:01 / 0:04"
    assert pane.play_button.text() == "Pause"
    assert pane.piano_roll.playhead.value() == pytest.approx(1.0)
    qtbot.waitUntil(lambda: len(highlights) >= 3, timeout=3000)
    assert [SCALE[h.start : h.end] for h in highlights[:3]] == ["D", "E", "F"]
    assert all(isinstance(h, NoteHighlight) and h.abc == SCALE for h in highlights[:3])

    qtbot.mouseClick(pane.stop_button, Qt.MouseButton.LeftButton)
    assert pane.player.state is State.STOPPED
    assert pane.slider.value() == 0
    assert pane.time_label.text() == "0:00 / 0:04"
    last = out.messages[-2:]
    assert (last[0].type, last[0].note) == ("note_off", 66)
    assert (last[1].control, last[1].value) == (123, 0)
    qtbot.waitUntil(lambda: highlights[-1] is None, timeout=3000)


def test_tempo_transpose_and_instrument_controls_reach_the_player(qtbot, rig):
    session, clock, out, pane = rig
    pane.tempo.setValue(200)
    pane.transpose.setValue(2)
    pane.instrument.setCurrentIndex(40)
    session.request_play(PlayRequest("Scale", abc=SCALE))
    qtbot.waitUntil(lambda: pane.player.state is State.PLAYING, timeout=10000)
    clock.advance(0.5)  # 1 s of the tune at 200 %
    qtbot.waitUntil(lambda: len(note_ons(out)) == 3, timeout=3000)
    assert note_ons(out) == [64, 66, 68]
    assert [m.program for m in out.messages if m.type == "program_change"] == [40]


def test_space_toggles_play(qtbot, rig):
    session, _clock, out, pane = rig
    session.request_play(PlayRequest("Scale", abc=SCALE))
    qtbot.waitUntil(lambda: pane.player.state is State.PLAYING, timeout=10000)
    pane.show()
    qtbot.waitExposed(pane)
    pane.windowHandle().requestActivate()
    pane.slider.setFocus()
    qtbot.waitUntil(pane.isActiveWindow, timeout=3000)
    qtbot.keyClick(pane.windowHandle(), Qt.Key.Key_Space)
    assert pane.player.state is State.PAUSED
    assert out.messages[-1].control == 123
    qtbot.keyClick(pane.windowHandle(), Qt.Key.Key_Space)
    assert pane.player.state is State.PLAYING


def test_midi_bytes_play_and_a_bad_tune_shows_its_reason(qtbot, rig):
    session, clock, out, pane = rig
    mid = mido.MidiFile()
    track = mido.MidiTrack(
        [
            mido.Message("note_on", note=69, velocity=64, time=0),
            mido.Message("note_off", note=69, time=960),
        ]
    )
    mid.tracks.append(track)
    buf = io.BytesIO()
    mid.save(file=buf)
    session.request_play(PlayRequest("From a model", midi=buf.getvalue()))
    qtbot.waitUntil(lambda: pane.player.state is State.PLAYING, timeout=5000)
    assert pane.title_label.text() == "From a model"
    clock.advance(1.0)
    qtbot.waitUntil(lambda: pane.player.state is State.STOPPED, timeout=3000)
    assert note_ons(out) == [69]

    session.request_play(PlayRequest("Broken", abc="X:1\nL:1/0\nK:C\nCDE|"))
    qtbot.waitUntil(lambda: "Cannot play" in pane.status_label.text(), timeout=10000)
    assert "L:1/0 is not a note length" in pane.status_label.text()
    assert pane.title_label.text() == "Cannot play this tune"
    session.request_play(PlayRequest("Bad MIDI", midi=b"not a midi file"))
    qtbot.waitUntil(lambda: "not a readable MIDI file" in pane.status_label.text(), timeout=5000)


def test_no_sound_device_and_no_midi_ports_are_shown_and_export_still_works(
    qtbot, monkeypatch, tmp_path
):
    from PySide6.QtMultimedia import QMediaDevices

    from workbench.ui.panes.playback_pane import BUILTIN, PlaybackPane

    monkeypatch.setattr(QMediaDevices, "audioOutputs", staticmethod(lambda: []))

    def no_ports():
        raise OSError("error creating ALSA sequencer client object")

    monkeypatch.setattr(outputs_module.mido, "get_output_names", no_ports)
    session = Session()
    pane = PlaybackPane(session)
    qtbot.addWidget(pane)
    try:
        status = pane.status_label.text()
        assert "No sound device" in status
        assert "No MIDI ports: the MIDI system is not available" in status
        assert [pane.output_combo.itemText(i) for i in range(pane.output_combo.count())] == [
            BUILTIN
        ]
        session.request_play(PlayRequest("Scale", abc=SCALE))
        qtbot.waitUntil(lambda: pane.player.state is State.PLAYING, timeout=10000)
        assert not pane.audio.active
        assert "No sound device" in pane.status_label.text()
        pane.stop()

        # Ports appear: a refresh lists them, plus the virtual port.
        monkeypatch.setattr(outputs_module.mido, "get_output_names", lambda: ["FluidSynth 128:0"])
        pane.refresh_button.click()
        items = [pane.output_combo.itemText(i) for i in range(pane.output_combo.count())]
        assert items == [BUILTIN, "FluidSynth 128:0", "Virtual MIDI port"]
        assert "1 MIDI port(s)" in pane.status_label.text()
        assert isinstance(pane.ports, PortList)
    finally:
        pane.shutdown()

    from workbench.playback.wav import render_abc_to_wav

    path = render_abc_to_wav(SCALE, tmp_path / "scale.wav")
    assert path.stat().st_size > 44100 * 4 * 4
