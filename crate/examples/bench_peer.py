"""The Python peer of bench_open / bench_compute: the same steps with xarray + dask
(threaded scheduler), run by the examples in the same session so both sets of figures
share the machine's load. Prints one `PEER <step>\t<seconds>\t<cpu seconds>` line per
step.

python bench_peer.py PATTERN open|compute
"""

import sys
import time
import warnings

import xarray as xr

warnings.filterwarnings("ignore")


def timed(step, f):
    wall, cpu = time.perf_counter(), time.process_time()
    out = f()
    print(f"PEER {step}\t{time.perf_counter() - wall:.3f}\t{time.process_time() - cpu:.3f}", flush=True)
    return out


def main():
    pattern, which = sys.argv[1], sys.argv[2]
    ds = timed("open_mfdataset", lambda: xr.open_mfdataset(pattern, combine="by_coords"))
    if which != "open":
        # pandas' "1W" needs datetime64 labels; the files' Julian dates are converted
        # (untimed) as a user would before resampling.
        ds = ds.assign_coords(time=ds.indexes["time"].to_datetimeindex(unsafe=True))
    rain = ds["HQprecipitation"]
    if which == "open":
        timed("load HQprecipitation", lambda: rain.load())
        return
    timed("weekly std, lazy", lambda: rain.resample(time="1W").mean("time").std("time").load())
    timed("mean over time, lazy", lambda: rain.mean("time").load())

    def subset():
        box = ds.sel(lon=slice(-74.13671875, -60.984375), lat=slice(-15.3724475816178, -10.685765151760275))
        x = box["HQprecipitation"].stack(z=("lat", "lon")).load()
        assert x.sizes["z"] == 6157
        return x

    timed("subset + stack + load", subset)
    # Last: loading replaces the lazy data of `rain` in `ds`.
    timed("load HQprecipitation", lambda: rain.load())


if __name__ == "__main__":
    main()
