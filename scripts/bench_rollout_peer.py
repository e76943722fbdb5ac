"""The peer for `tdm-workbench bench plan`: MuJoCo's own native rollout module (mujoco.rollout)
on the same MJCF, K rollouts of N steps from one state with random controls, best of R runs.

Usage: python bench_rollout_peer.py MODEL.xml K N THREADS REPEATS
"""
import sys
import time

import mujoco
import numpy as np
from mujoco import rollout


def main():
    xml, k, n, threads, repeats = sys.argv[1], *map(int, sys.argv[2:6])
    model = mujoco.MjModel.from_xml_path(xml)
    datas = [mujoco.MjData(model) for _ in range(threads)]
    spec = mujoco.mjtState.mjSTATE_FULLPHYSICS
    state0 = np.zeros(mujoco.mj_stateSize(model, spec))
    mujoco.mj_getState(model, datas[0], state0, spec)
    initial = np.tile(state0, (k, 1))
    rng = np.random.default_rng(0)
    control = rng.uniform(-1, 1, size=(k, n, model.nu))
    state = np.zeros((k, n, state0.size))
    sensordata = np.zeros((k, n, model.nsensordata))
    best = float("inf")
    with rollout.Rollout(nthread=threads) as r:
        for _ in range(repeats):
            start = time.perf_counter()
            r.rollout([model] * k, datas, initial, control, nstep=n, state=state, sensordata=sensordata, skip_checks=True)
            best = min(best, time.perf_counter() - start)
    print(f"mujoco.rollout {mujoco.__version__}: K={k} x N={n}, {threads} thread(s): {best * 1e3:.1f} ms (best of {repeats})")


if __name__ == "__main__":
    main()
