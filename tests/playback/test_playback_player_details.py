"""The player's commands at their edges, checked by the exact MIDI messages (mido) a recording
output gets at exact clock times: a fresh player, play/stop/seek/loop/toggle while playing or
not, program, volume and output changes while playing, notes outside MIDI's range, cues in step
with their notes, a clock that wakes early, and the player's thread."""

from __future__ import annotations

import threading

import mido
import pytest
from player_rig import sent, two_notes

from workbench.playback.clock import JumpClock, ManualClock
from workbench.playback.events import NoteEvent, tune_from_abc, tune_from_notes
from workbench.playback.outputs import RecordingOutput
from workbench.playback.player import Player, State

SCALE_ABC = "X:1\nT:Scale\nM:4/4\nL:1/4\nQ:1/4=120\nK:D\nDEFG|ABcd|]\n"


def msg(t: float, kind: str, **fields) -> tuple[float, str]:
    return (t, str(mido.Message(kind, **fields)))


def on(note, t, vel, ch=0):
    return msg(t, "note_on", channel=ch, note=note, velocity=vel)


def off(note, t, ch=0):
    return msg(t, "note_off", channel=ch, note=note, velocity=0)


def cc(control, value, t, ch=0):
    return msg(t, "control_change", channel=ch, control=control, value=value)


def prog(program, t, ch=0):
    return msg(t, "program_change", channel=ch, program=program)


SETUP = [prog(0, 0.0), cc(7, 127, 0.0)]


def test_a_fresh_player_is_stopped_at_zero_and_plays_nothing():
    clock = JumpClock()
    out = RecordingOutput(clock.now)
    states, cues = [], []
    player = Player(out, clock, on_cue=cues.append, on_state=states.append)
    try:
        assert player.state is State.STOPPED
        assert player.position == 0.0
        assert player.tune.notes == [] and player.duration == 0.0
        assert player.loop is None
        assert (player.tempo, player.transpose, player.volume) == (1.0, 0, 1.0)
        assert player.output is out
        player.play()  # no tune: no messages, no state change
        assert player.state is State.STOPPED and out.sent == [] and states == []
        # The callbacks given to the constructor are the ones called.
        player.load(two_notes())
        player.play()
        assert player.wait(2)
        assert states == [State.PLAYING, State.STOPPED]
        assert cues == [None]  # the tune's end clears the cue
    finally:
        player.close()


def test_play_while_playing_changes_nothing(rig):
    clock, out, player = rig
    player.load(two_notes())
    clock.at(0.25, player.play)
    player.play()
    assert player.wait(2)
    assert sent(out) == [*SETUP, on(60, 0.0, 100), off(60, 0.5), on(62, 0.5, 80), off(62, 1.0)]


def test_cues_arrive_at_their_times_each_just_before_its_note(rig):
    clock, out, player = rig
    tune = tune_from_abc(SCALE_ABC, "Scale")
    log = []
    player.on_cue = lambda cue: log.append(
        (cue, round(clock.now(), 6), sum(m.type == "note_on" for m in out.messages))
    )
    player.load(tune)
    player.play()
    assert player.wait(5)
    assert len(tune.cues) == 8
    # Cue i comes when i notes have been struck: before its own note-on at the same time.
    assert log == [(cue, cue.time, i) for i, cue in enumerate(tune.cues)] + [(None, 4.0, 8)]
    assert [SCALE_ABC[c.start : c.end] for c in tune.cues] == list("DEFGABcd")


def test_note_offs_go_to_the_channel_of_their_note(rig):
    _clock, out, player = rig
    player.load(
        tune_from_notes([NoteEvent(0.0, 0.5, 60, 100, channel=3), NoteEvent(0.0, 1.0, 64, 90, 5)])
    )
    player.play()
    assert player.wait(2)
    assert sent(out) == [
        prog(0, 0.0, 3),
        cc(7, 127, 0.0, 3),
        prog(0, 0.0, 5),
        cc(7, 127, 0.0, 5),
        on(60, 0.0, 100, 3),
        on(64, 0.0, 90, 5),
        off(60, 0.5, 3),
        off(64, 1.0, 5),
    ]


def test_notes_outside_midis_range_and_zero_length_notes_are_not_struck(rig):
    _clock, out, player = rig
    notes = [
        NoteEvent(0.0, 0.5, 0),
        NoteEvent(0.0, 0.5, 127),
        NoteEvent(0.5, 0.5, 64),  # zero length: nothing to hear
        NoteEvent(0.5, 1.0, 60),
    ]
    player.load(tune_from_notes(notes))
    struck = []
    for semitones in (0, 1, -1):
        out.clear()
        player.set_transpose(semitones)
        player.play()
        assert player.wait(2)
        struck.append([m.note for m in out.messages if m.type == "note_on"])
        # Every note struck is released.
        assert sorted(m.note for m in out.messages if m.type == "note_off") == sorted(struck[-1])
    # Transposed past 127 or below 0 a note is left out, not wrapped or clamped.
    assert struck == [[0, 127, 60], [1, 61], [126, 59]]


def test_program_and_volume_changes_while_playing_reach_every_channel_asked(rig):
    clock, out, player = rig
    player.load(tune_from_notes([NoteEvent(0.0, 1.0, 60, 100, 0), NoteEvent(0.0, 1.0, 64, 90, 1)]))
    clock.at(0.25, lambda: player.set_program(41, channel=1))  # viola, channel 1 only
    clock.at(0.5, lambda: player.set_program(40))  # violin, every channel
    clock.at(0.75, lambda: player.set_volume(0.25))
    player.play()
    assert player.wait(2)
    assert sent(out) == [
        prog(0, 0.0, 0),
        cc(7, 127, 0.0, 0),
        prog(0, 0.0, 1),
        cc(7, 127, 0.0, 1),
        on(60, 0.0, 100, 0),
        on(64, 0.0, 90, 1),
        prog(41, 0.25, 1),
        prog(40, 0.5, 0),
        prog(40, 0.5, 1),
        cc(7, 32, 0.75, 0),  # round(0.25 * 127)
        cc(7, 32, 0.75, 1),
        off(60, 1.0, 0),
        off(64, 1.0, 1),
    ]
    # Set while stopped, a program is sent with the next play's setup.
    out.clear()
    player.set_program(42, channel=0)
    player.play()
    assert player.wait(2)
    assert [(m.channel, m.program) for m in out.messages if m.type == "program_change"] == [
        (0, 42),
        (1, 40),
    ]
    # Volume is clamped to [0, 1].
    player.set_volume(1.5)
    assert player.volume == 1.0
    player.set_volume(-0.5)
    assert player.volume == 0.0


def test_stop_rewinds_to_zero_or_to_the_loops_start(rig):
    clock, _out, player = rig
    player.load(two_notes())
    player.seek(0.75)
    player.stop()  # stopped already: still rewinds
    assert player.position == 0.0
    clock.at(0.3, player.stop)
    player.play()
    assert player.wait(2)
    assert player.state is State.STOPPED and player.position == 0.0
    player.set_loop(0.25, 0.75)  # position 0 is outside: moved to the loop's start
    assert player.position == 0.25
    player.seek(0.5)
    player.stop()
    assert player.position == 0.25
    clock.at(clock.now() + 0.1, player.stop)
    player.play()
    assert player.wait(2)
    assert player.state is State.STOPPED and player.position == 0.25


def test_set_loop_defaults_clamps_and_refuses_an_empty_range(rig):
    _clock, _out, player = rig
    player.load(two_notes())
    player.set_loop()
    assert player.loop == (0.0, 1.0)
    player.set_loop(end=0.75)
    assert player.loop == (0.0, 0.75)
    player.set_loop(start=0.5)
    assert player.loop == (0.5, 1.0)
    player.set_loop(-1.0, 5.0)
    assert player.loop == (0.0, 1.0)
    with pytest.raises(ValueError, match=r"start < end, not 0\.500 >= 0\.500"):
        player.set_loop(0.5, 0.5)
    player.clear_loop()
    assert player.loop is None
    player.set_loop(0.0, 0.5)
    player.load(two_notes())  # a new tune has no loop
    assert player.loop is None
    player.seek(0.5)
    player.set_loop(0.0, 0.5)  # the end is outside the loop: back to its start
    assert player.position == 0.0


def test_a_loop_set_around_the_playing_position_lets_the_note_sound_on(rig):
    clock, out, player = rig
    player.load(tune_from_notes([NoteEvent(0.0, 1.0, 60, 100), NoteEvent(1.0, 2.0, 62, 80)]))
    clock.at(0.5, lambda: player.set_loop(0.5, 2.0))
    clock.at(2.75, player.stop)
    player.play()
    assert player.wait(2)
    assert sent(out) == [
        *SETUP,
        on(60, 0.0, 100),
        off(60, 1.0),  # not cut at 0.5 by the loop being set
        on(62, 1.0, 80),
        off(62, 2.0),  # the loop's end; back to 0.5, in the middle of note 60
        on(62, 2.5, 80),
        off(62, 2.75),
        cc(123, 0, 2.75),
    ]


def test_a_loop_ending_where_a_note_starts_never_strikes_it(rig):
    clock, out, player = rig
    player.load(two_notes())
    player.set_loop(0.0, 0.5)
    clock.at(1.25, player.stop)
    player.play()
    assert player.wait(2)
    assert sent(out) == [
        *SETUP,
        on(60, 0.0, 100),
        off(60, 0.5),
        on(60, 0.5, 100),
        off(60, 1.0),
        on(60, 1.0, 100),
        off(60, 1.25),
        cc(123, 0, 1.25),
    ]


def test_seek_while_playing_releases_and_goes_on_from_there(rig):
    clock, out, player = rig
    player.load(two_notes())
    clock.at(0.25, lambda: player.seek(0.5))
    player.play()
    assert player.wait(2)
    assert sent(out) == [*SETUP, on(60, 0.0, 100), off(60, 0.25), on(62, 0.25, 80), off(62, 0.75)]


def test_seek_at_the_moment_the_next_notes_are_due_replans_them(rig):
    clock, out, player = rig
    player.load(two_notes())
    clock.at(0.5, lambda: player.seek(0.0))  # when note 60 ends and note 62 would start
    player.play()
    assert player.wait(2)
    assert sent(out) == [
        *SETUP,
        on(60, 0.0, 100),
        off(60, 0.5),
        on(60, 0.5, 100),
        off(60, 1.0),
        on(62, 1.0, 80),
        off(62, 1.5),
    ]


def test_set_output_while_playing_silences_the_old_and_sets_up_the_new(rig):
    clock, out, player = rig
    other = RecordingOutput(clock.now)
    player.load(two_notes())
    clock.at(0.25, lambda: player.set_output(other))
    player.play()
    assert player.wait(2)
    assert player.output is other
    assert sent(out) == [*SETUP, on(60, 0.0, 100), off(60, 0.25), cc(123, 0, 0.25)]
    assert sent(other) == [prog(0, 0.25), cc(7, 127, 0.25), on(62, 0.5, 80), off(62, 1.0)]
    other.clear()
    out.clear()
    player.set_output(out)  # stopped: nothing to silence or set up
    assert player.output is out and out.sent == [] and other.sent == []


def test_toggle_plays_and_pauses_and_wait_times_out_while_playing():
    clock = ManualClock()
    states = []
    player = Player(RecordingOutput(clock.now), clock, on_state=states.append)
    try:
        player.load(two_notes())
        player.toggle()
        assert player.state is State.PLAYING
        assert player.wait(0.01) is False  # the clock does not move: still playing
        player.toggle()
        assert player.state is State.PAUSED
        player.toggle()
        assert states == [State.PLAYING, State.PAUSED, State.PLAYING]
    finally:
        player.close()


class EarlyClock(JumpClock):
    """Returns from its first sleep without time passing, as a timed wait may."""

    def __init__(self) -> None:
        super().__init__()
        self.early = 1

    def sleep_until(self, t: float, wake: threading.Event) -> None:
        if self.early and t > self.now():
            self.early -= 1
            return
        super().sleep_until(t, wake)


def test_a_clock_that_wakes_early_delays_and_loses_nothing():
    clock = EarlyClock()
    out = RecordingOutput(clock.now)
    player = Player(out, clock)
    try:
        player.load(two_notes())
        player.play()
        assert player.wait(2)
        assert clock.early == 0
        assert sent(out) == [
            *SETUP,
            on(60, 0.0, 100),
            off(60, 0.5),
            on(62, 0.5, 80),
            off(62, 1.0),
        ]
    finally:
        player.close()


def test_the_player_runs_on_its_own_daemon_thread_that_close_ends():
    before = set(threading.enumerate())
    player = Player(RecordingOutput())
    (thread,) = [t for t in threading.enumerate() if t not in before]
    # Named for debuggers and profilers; a daemon, so a player never closed cannot keep the
    # app from exiting.
    assert thread.name == "player" and thread.daemon
    player.close()
    assert not thread.is_alive()
