"""The player core with a recording output and a jump-ahead clock: exact messages, zero time."""

from __future__ import annotations

import mido
import pytest
from player_rig import sent, two_notes

from workbench.playback.events import PlaybackError, tune_from_abc, tune_from_midi
from workbench.playback.player import State

SCALE_ABC = """X:1
T:Scale
M:4/4
L:1/4
Q:1/4=120
K:D
DEFG|ABcd|]
"""


def on(note, t, vel, ch=0):
    return (t, str(mido.Message("note_on", channel=ch, note=note, velocity=vel)))


def off(note, t, ch=0):
    return (t, str(mido.Message("note_off", channel=ch, note=note, velocity=0)))


def cc(control, value, t, ch=0):
    return (t, str(mido.Message("control_change", channel=ch, control=control, value=value)))


def prog(program, t, ch=0):
    return (t, str(mido.Message("program_change", channel=ch, program=program)))


def test_plays_the_exact_message_sequence_and_stops_at_the_end(rig):
    _clock, out, player = rig
    states = []
    player.on_state = states.append
    player.load(two_notes())
    player.play()
    assert player.wait(2)
    assert sent(out) == [
        prog(0, 0.0),
        cc(7, 127, 0.0),
        on(60, 0.0, 100),
        off(60, 0.5),
        on(62, 0.5, 80),
        off(62, 1.0),
    ]
    assert states == [State.PLAYING, State.STOPPED]
    assert player.position == 0.0


def test_tempo_scale_and_a_tempo_change_while_playing(rig):
    clock, out, player = rig
    player.load(two_notes())
    player.set_tempo(2.0)
    player.play()
    assert player.wait(2)
    assert [t for t, m in out.sent if m.type == "note_on"] == [0.0, 0.25]
    out.clear()
    # Half speed from tune time 0.25 (clock 0.125 after the restart at 0.5 + ...).
    start = clock.now()
    clock.at(start + 0.125, lambda: player.set_tempo(0.5))  # tune position 0.25
    player.play()
    assert player.wait(2)
    ons = [round(t - start, 6) for t, m in out.sent if m.type == "note_on"]
    offs = [round(t - start, 6) for t, m in out.sent if m.type == "note_off"]
    # 0.25 s of tune left before the 2nd note at half speed = 0.5 s of clock.
    assert ons == [0.0, 0.625]
    assert offs == [0.625, 1.625]


def test_loop_a_range_then_stop_sends_note_offs_and_all_notes_off(rig):
    clock, out, player = rig
    player.load(two_notes())
    player.set_loop(0.0, 0.75)
    clock.at(1.6, player.stop)  # third pass, while note 62 sounds
    player.play()
    assert player.wait(2)
    assert sent(out)[2:] == [
        on(60, 0.0, 100),
        off(60, 0.5),
        on(62, 0.5, 80),
        off(62, 0.75),  # the loop's end releases what sounds
        on(60, 0.75, 100),
        off(60, 1.25),
        on(62, 1.25, 80),
        off(62, 1.5),
        on(60, 1.5, 100),
        off(60, 1.6),
        cc(123, 0, 1.6),
    ]
    assert player.state is State.STOPPED
    assert player.position == 0.0


def test_pause_silences_and_play_resumes_where_it_paused(rig):
    clock, out, player = rig
    player.load(two_notes())
    clock.at(0.3, player.pause)
    player.play()
    assert player.wait(2)
    assert player.state is State.PAUSED
    assert player.position == pytest.approx(0.3)
    assert sent(out)[-2:] == [off(60, 0.3), cc(123, 0, 0.3)]
    out.clear()
    clock.at(10.0, lambda: None)
    player.play()  # clock at 0.3: the next note is 0.2 s away
    assert player.wait(2)
    assert sent(out)[2:] == [on(62, 0.5, 80), off(62, 1.0)]


def test_transpose_volume_program_and_seek(rig):
    _clock, out, player = rig
    player.load(two_notes())
    player.set_transpose(-12)
    player.set_volume(0.5)
    player.set_program(40)  # violin, every channel
    player.seek(0.5)
    player.play()
    assert player.wait(2)
    assert sent(out) == [prog(40, 0.0), cc(7, 64, 0.0), on(50, 0.0, 80), off(50, 0.5)]


def test_transpose_while_a_note_sounds_releases_the_pitch_that_was_sent(rig):
    clock, out, player = rig
    player.load(two_notes())
    clock.at(0.25, lambda: player.set_transpose(5))
    player.play()
    assert player.wait(2)
    assert [(m.type, m.note) for _, m in out.sent if "note" in m.type] == [
        ("note_on", 60),
        ("note_off", 60),
        ("note_on", 67),
        ("note_off", 67),
    ]


def test_a_real_abc_tune_plays_its_notes_in_order_and_time(rig):
    _clock, out, player = rig
    tune = tune_from_abc(SCALE_ABC, "Scale")
    player.load(tune)
    player.play()
    assert player.wait(5)
    ons = [(round(t, 3), m.note) for t, m in out.sent if m.type == "note_on"]
    # D major from D4, crotchets at 120 bpm.
    assert ons == list(
        zip([i * 0.5 for i in range(8)], [62, 64, 66, 67, 69, 71, 73, 74], strict=True)
    )
    assert sum(m.type == "note_off" for _, m in out.sent) == 8


def test_midi_tempo_map_and_programs_are_read():
    mid = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    mid.tracks.append(track)
    track.append(mido.MetaMessage("set_tempo", tempo=1_000_000, time=0))  # 60 bpm
    track.append(mido.Message("program_change", channel=2, program=73, time=0))
    track.append(mido.Message("note_on", channel=2, note=72, velocity=70, time=0))
    track.append(mido.Message("note_off", channel=2, note=72, time=480))
    track.append(mido.MetaMessage("set_tempo", tempo=250_000, time=0))  # 240 bpm
    track.append(mido.Message("note_on", channel=2, note=74, velocity=70, time=0))
    track.append(mido.Message("note_on", channel=2, note=74, velocity=0, time=480))
    import io

    buf = io.BytesIO()
    mid.save(file=buf)
    tune = tune_from_midi(buf.getvalue())
    assert [(n.start, n.end, n.pitch, n.channel) for n in tune.notes] == [
        (0.0, 1.0, 72, 2),
        (1.0, 1.25, 74, 2),
    ]
    assert tune.programs == {2: 73}
    assert tune.quarters_to_seconds(1.5) == pytest.approx(1.125)


def test_bad_input_is_a_clear_error():
    with pytest.raises(PlaybackError, match="MIDI"):
        tune_from_midi(b"RIFF not midi at all")
    with pytest.raises(PlaybackError):
        tune_from_abc("this is not ABC K:")
