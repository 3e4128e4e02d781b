"""``astra-sim data import-rosbag``: bags the tests write with rosbags -> datasets that the
reader and ``eval odometry`` accept, with the written poses back exactly."""

from __future__ import annotations

import json

import numpy as np
import pytest
from bagmaker import MS, RADIUS, T0, TRACK, BagSpec, V, W, pose_at, topics_yaml, write_bag

pytest.importorskip("rosbags")

from astra_sim.cli.main import main
from astra_sim.data import EpisodeDataset
from astra_sim.data.rosbag.importer import import_rosbag
from astra_sim.data.rosbag.messages import RosbagImportError
from astra_sim.data.rosbag.sync import resample_wheels, wheel_angles
from astra_sim.data.rosbag.topics import load_topics
from astra_sim.data.tum import read_tum
from astra_sim.data.writer import DatasetExistsError

STORAGES = {
    "ros1": ("run.bag", BagSpec(truth="odometry")),
    "db3": ("run_db3", BagSpec(truth="tf")),
    "mcap": ("run_mcap", BagSpec(truth="pose", compressed=True)),
}


def make(tmp_path, storage="ros1", spec=None, **extra):
    name, default = STORAGES[storage]
    spec = spec or default
    bag = write_bag(tmp_path / name, spec, storage)
    return bag, topics_yaml(tmp_path / "topics.yaml", spec, **extra)


@pytest.mark.parametrize("storage", list(STORAGES))
def test_bag_imports_with_the_written_poses_and_sensors(tmp_path, storage):
    bag, topics = make(tmp_path, storage)
    out = tmp_path / "real"
    assert (
        main(["data", "import-rosbag", str(bag), "--config", str(topics), "--out", str(out)]) == 0
    )
    ds = EpisodeDataset(out)
    e = ds.read_episode(0)
    rows = len(e["info.pose"])
    assert rows == 20  # 2 s of overlap at 10 Hz
    truth = np.array([pose_at(0.1 * (i + 1)) for i in range(rows)], np.float32)
    np.testing.assert_array_equal(e["info.pose"], truth)
    # Wheel increments of each period: exactly the arc's, split into 4 equal samples.
    per_sample = np.array([V - W * TRACK / 2, V + W * TRACK / 2]) * 0.025 / RADIUS
    np.testing.assert_allclose(
        e["observation.wheel"], np.broadcast_to(per_sample, (rows, 4, 2)), atol=1e-6
    )
    np.testing.assert_allclose(e["observation.imu"][..., 5], W, atol=1e-6)
    np.testing.assert_allclose(e["observation.imu"][..., 2], 9.81, atol=1e-5)
    assert e["observation.imu"].shape == (rows, 20, 6)
    # Row i shows frame i + 1 (the one at its tick) of every camera (pixel = 10 f + k).
    pixels = e["observation.rgb"][:, :, 0, 0, 0].astype(int)
    expected = (10 * (np.arange(rows)[:, None] + 1) + np.arange(4)[None]) % 256
    np.testing.assert_array_equal(pixels, expected)
    info = ds.info
    assert info["fps"] == 10.0 and info["imu_hz"] == 200.0 and info["wheel_samples_per_step"] == 4
    assert [c["name"] for c in info["rig"]["cameras"]] == ["c0", "c1", "c2", "c3"]
    assert info["robot"] == {"wheel_radius": RADIUS, "track_width": TRACK}
    rates = info["rosbag"]["bags"][0]["topics"]
    assert rates["/imu"]["rate_hz"] == pytest.approx(200.0)
    assert info["rosbag"]["bags"][0]["storage"] == ("ros1" if storage == "ros1" else "ros2")
    assert info["complete"] and ds.stats["observation.imu"]["count"] == rows * 20


def test_eval_odometry_scores_every_method_on_an_imported_bag(tmp_path):
    bag, topics = make(tmp_path, spec=BagSpec(seconds=4.0))
    out = tmp_path / "real"
    import_rosbag([bag], load_topics(topics), out)
    report, tum = tmp_path / "eval", tmp_path / "tum"
    argv = ["eval", "odometry", "--data", str(out), "--out", str(report), "--segment", "0.5"]
    assert main([*argv, "--tum", str(tum)]) == 0
    summary = json.loads((report / "summary.json").read_text())
    assert set(summary) == {"bev_odom", "vision", "vision_imu", "vision_imu_wheel",
                            "wheel_dr", "wheel_gyro_dr"}  # fmt: skip
    for name, row in summary.items():
        assert np.isfinite([row["ate_m"], row["rte_percent"]]).all(), name
    # Noise-free wheels on the calibrated geometry: dead reckoning is exact.
    assert summary["wheel_dr"]["ate_m"] < 1e-4
    stamps, poses = read_tum(tum / "groundtruth" / "episode_000000.tum")
    np.testing.assert_allclose(stamps - T0 / 1e9, 0.1 * (np.arange(40) + 1), atol=1e-6)
    np.testing.assert_allclose(poses, [pose_at(0.1 * (i + 1)) for i in range(40)], atol=1e-6)
    _, est = read_tum(tum / "wheel_dr" / "episode_000000.tum")
    np.testing.assert_allclose(est, poses, atol=1e-4)


def test_command_topic_is_the_action(tmp_path):
    bag, topics = make(tmp_path, spec=BagSpec(with_command=True))
    import_rosbag([bag], load_topics(topics), tmp_path / "real")
    action = EpisodeDataset(tmp_path / "real").read_episode(0)["action"]
    np.testing.assert_allclose(action, np.broadcast_to([V, W], action.shape), atol=1e-6)


def test_depth_images_and_a_resize(tmp_path):
    spec = BagSpec(cameras=2, depth_cameras=2)
    bag, topics = make(tmp_path, spec=spec, image_size="[16, 24]")
    import_rosbag([bag], load_topics(topics), tmp_path / "real")
    ds = EpisodeDataset(tmp_path / "real")
    e = ds.read_episode(0)
    assert e["observation.rgb"].shape == (20, 2, 16, 24, 3)
    assert e["observation.depth"].shape == (20, 2, 16, 24)
    # Row i holds depth frame i + 1: 100 mm per frame number, in metres.
    want = 0.1 * (np.arange(20) + 2)
    np.testing.assert_allclose(e["observation.depth"][:, 1, 5, 7], want, atol=1e-6)
    assert ds.info["features"]["observation.depth"]["encoding"] == "png16"
    kinds = [(c["name"], c["kind"]) for c in ds.info["rig"]["cameras"]]
    assert kinds == [("c0", "rgb"), ("c1", "rgb"), ("d0", "depth"), ("d1", "depth")]


def test_two_bags_are_two_episodes(tmp_path):
    a = write_bag(tmp_path / "a.bag", BagSpec(), "ros1")
    b = write_bag(tmp_path / "b_mcap", BagSpec(seconds=3.0), "mcap")
    topics = topics_yaml(tmp_path / "topics.yaml")
    info = import_rosbag([a, b], load_topics(topics), tmp_path / "real")
    assert info["total_episodes"] == 2 and info["total_frames"] == 20 + 30


def assert_no_dataset(tmp_path):
    assert not (tmp_path / "real").exists()
    assert not list(tmp_path.glob(".real.importing-*"))


def test_missing_topic_names_it_and_leaves_no_dataset(tmp_path):
    spec = BagSpec(skip={"/imu"})
    bag, topics = make(tmp_path, spec=spec)
    with pytest.raises(RosbagImportError, match=r"topic /imu: .*has no such topic.*/joint_states"):
        import_rosbag([bag], load_topics(topics), tmp_path / "real")
    assert_no_dataset(tmp_path)
    assert main(["data", "import-rosbag", str(bag), "--config", str(topics), "--out",
                 str(tmp_path / "real")]) == 2  # fmt: skip
    assert_no_dataset(tmp_path)


def test_gap_in_a_stream_is_unsynchronisable(tmp_path):
    bag, topics = make(tmp_path, spec=BagSpec(gaps={"/imu": (0.8, 0.5)}))
    with pytest.raises(
        RosbagImportError, match=r"topic /imu: cannot be synchronised: no message for 0\.50"
    ):
        import_rosbag([bag], load_topics(topics), tmp_path / "real")
    assert_no_dataset(tmp_path)


def test_streams_that_do_not_overlap_are_unsynchronisable(tmp_path):
    spec = BagSpec(starts={"/cam2/image_raw": 1.5}, gaps={"/imu": (1.0, 5.0)})
    bag, topics = make(tmp_path, spec=spec)
    with pytest.raises(
        RosbagImportError,
        match=r"topic /cam2/image_raw: cannot be synchronised with /imu: it starts 1\.500 s "
        r"into the recording and /imu ends at 0\.995 s",
    ):
        import_rosbag([bag], load_topics(topics), tmp_path / "real")
    (tmp_path / "short").mkdir()
    bag, topics = make(tmp_path / "short", spec=BagSpec(starts={"/cam2/image_raw": 1.95}))
    with pytest.raises(RosbagImportError, match=r"topic /cam2/image_raw: spans only 0\.000 s"):
        import_rosbag([bag], load_topics(topics), tmp_path / "real")
    assert_no_dataset(tmp_path)


def test_unknown_message_type_names_the_topic(tmp_path):
    from rosbags.rosbag1 import Writer
    from rosbags.typesys import Stores, get_typestore
    from rosbags.typesys.msg import get_types_from_msg

    ts = get_typestore(Stores.ROS1_NOETIC)
    ts.register(get_types_from_msg("int64 left\nint64 right\n", "my_robot/msg/WheelTicks"))
    bag = write_bag(tmp_path / "run.bag", BagSpec(), "ros1")
    odd = tmp_path / "odd.bag"
    with Writer(odd) as writer:  # the same bag with a custom message on the wheel topic
        from rosbags.highlevel import AnyReader

        with AnyReader([bag]) as reader:
            conns = {}
            for c, t, raw in reader.messages():
                topic, typ = c.topic, c.msgtype
                if topic == "/joint_states":
                    typ = "my_robot/msg/WheelTicks"
                    raw = ts.serialize_ros1(ts.types[typ](left=1, right=2), typ)
                if topic not in conns:
                    conns[topic] = writer.add_connection(
                        topic, typ, typestore=ts if topic == "/joint_states" else reader.typestore
                    )
                writer.write(conns[topic], t, raw)
    topics = topics_yaml(tmp_path / "topics.yaml")
    with pytest.raises(
        RosbagImportError, match=r"topic /joint_states: has message type my_robot/msg/WheelTicks"
    ):
        import_rosbag([odd], load_topics(topics), tmp_path / "real")
    assert_no_dataset(tmp_path)


def test_tf_without_the_frames_and_joints_missing_are_named(tmp_path):
    bag, topics = make(tmp_path, "db3")
    cfg = load_topics(topics, ["truth.child_frame=base_footprint"])
    with pytest.raises(
        RosbagImportError, match=r"topic /tf: no transform from 'map' to 'base_footprint'"
    ):
        import_rosbag([bag], cfg, tmp_path / "real")
    cfg = load_topics(topics, ["wheels.left=left_wheel_joint"])
    with pytest.raises(
        RosbagImportError, match=r"topic /joint_states: .*joints seen: caster, wheel_left"
    ):
        import_rosbag([bag], cfg, tmp_path / "real")
    assert_no_dataset(tmp_path)


def test_existing_dataset_is_refused_untouched(tmp_path):
    bag, topics = make(tmp_path)
    out = tmp_path / "real"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(DatasetExistsError):
        import_rosbag([bag], load_topics(topics), out)
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_wheel_velocities_integrate_to_the_same_increments():
    times = np.arange(0, 1_000 * MS + 1, 20 * MS, dtype=np.int64)
    rate = np.array([4.0, 6.0])
    angles_from_velocity = wheel_angles(times, "velocity", np.tile(rate, (len(times), 1)))
    angles_from_position = wheel_angles(times, "position", times[:, None] / 1e9 * rate)
    ticks = np.arange(1, 10, dtype=np.int64) * 100 * MS
    a = resample_wheels(times, angles_from_velocity, ticks, 100 * MS, 4)
    b = resample_wheels(times, angles_from_position, ticks, 100 * MS, 4)
    np.testing.assert_allclose(a, b, atol=1e-12)
    np.testing.assert_allclose(a.sum(axis=1), np.broadcast_to(rate * 0.1, (9, 2)), atol=1e-12)
