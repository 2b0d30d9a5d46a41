# Four files of three days each, written by netCDF4-python: `rain(time, lat, lon)`
# packed as int16 (scale_factor 0.01, add_offset 1.5, _FillValue -32767), deflate
# level 2 with shuffle, chunks (1, 4, 5); cell (0, 0) missing on every day; time in
# double "days since 2018-02-01" (standard calendar).
import sys, numpy as np, netCDF4
d = sys.argv[1]
rng = np.random.default_rng(14)
for f in range(4):
    with netCDF4.Dataset(f"{d}/days-{f}.nc", "w") as ds:
        ds.createDimension("time", None)
        ds.createDimension("lat", 8)
        ds.createDimension("lon", 10)
        t = ds.createVariable("time", "f8", ("time",))
        t.units = "days since 2018-02-01"
        t.calendar = "standard"
        t[:] = np.arange(3 * f, 3 * f + 3, dtype="f8")
        lat = ds.createVariable("lat", "f4", ("lat",))
        lat[:] = np.linspace(-20, -13, 8, dtype="f4")
        lon = ds.createVariable("lon", "f4", ("lon",))
        lon[:] = np.linspace(-70, -61, 10, dtype="f4")
        v = ds.createVariable("rain", "i2", ("time", "lat", "lon"), zlib=True,
                              complevel=2, shuffle=True, chunksizes=(1, 4, 5),
                              fill_value=-32767)
        v.scale_factor = np.float32(0.01)
        v.add_offset = np.float32(1.5)
        v.units = "mm"
        values = rng.gamma(0.6, 9.0, size=(3, 8, 10)).astype("f4")
        values[:, 0, 0] = np.nan
        v[:] = np.ma.masked_invalid(values)
