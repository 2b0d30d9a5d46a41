"""Writes the damaged-file fuzzer's seed files with Python's NetCDF tools and prints
where each file keeps its array data, so that mutations can aim at the metadata.

Usage: python fixtures.py OUT_DIR [EXISTING_FILE ...]

Writes into OUT_DIR:
  netcdf4py.nc   NetCDF-4 by netCDF4-python: unlimited time, deflate + shuffle,
                 fletcher32, a big-endian variable, packed int16, a string attribute
  h5py.nc        HDF5 by h5py with dimension scales (how NetCDF-4 names dimensions),
                 chunked gzip, contiguous and compact data
  classic.nc     NetCDF-3 classic by netCDF4-python, with a record dimension
  offset64.nc    NetCDF-3 64-bit offset by netCDF4-python

Prints one JSON object on stdout: {"path": [[offset, length], ...], ...} giving the
byte ranges that hold array values (chunks or contiguous storage) of every written
file and of every EXISTING_FILE (HDF5 files are read with h5py).
"""

import json
import os
import struct
import sys

import h5py
import netCDF4
import numpy as np

rng = np.random.default_rng(20261201)


def write_netcdf4(path):
    with netCDF4.Dataset(path, "w", format="NETCDF4") as ds:
        ds.title = "geoxr fuzz seed written by netCDF4-python"
        ds.history = "made by kernel/src/fuzz/fixtures.py"
        ds.createDimension("time", None)
        ds.createDimension("lat", 24)
        ds.createDimension("lon", 32)
        t = ds.createVariable("time", "f8", ("time",))
        t.units = "days since 2018-01-01 00:00:00"
        t.calendar = "noleap"
        t[:] = np.arange(6.0)
        lat = ds.createVariable("lat", "f4", ("lat",))
        lat[:] = np.linspace(-30, 30, 24, dtype="f4")
        lon = ds.createVariable("lon", "f4", ("lon",))
        lon[:] = np.linspace(0, 310, 32, dtype="f4")
        rain = ds.createVariable(
            "rain", "f4", ("time", "lat", "lon"), zlib=True, complevel=4, shuffle=True,
            chunksizes=(1, 24, 32), fill_value=np.float32(-9999.9))
        rain.units = "mm"
        data = rng.gamma(0.7, 3.0, size=(6, 24, 32)).astype("f4")
        data[2, 3:6, 4:9] = -9999.9
        rain[:] = data
        temp = ds.createVariable(
            "temp", "i2", ("time", "lat", "lon"), zlib=True, complevel=1,
            fletcher32=True, chunksizes=(2, 12, 16))
        temp.scale_factor = 0.01
        temp.add_offset = 273.15
        temp[:] = (rng.normal(15, 8, size=(6, 24, 32)) * 100).astype("i2")
        big = ds.createVariable("big_endian", ">i4", ("lat", "lon"), endian="big")
        big[:] = np.arange(24 * 32, dtype="i4").reshape(24, 32)
        flag = ds.createVariable("flag", "u1", ("lat",), contiguous=True)
        flag[:] = np.arange(24, dtype="u1")


def write_h5py(path):
    with h5py.File(path, "w", libver="earliest") as f:
        f.attrs["title"] = "geoxr fuzz seed written by h5py"
        lat = f.create_dataset("lat", data=np.linspace(-20, 20, 40))
        lon = f.create_dataset("lon", data=np.linspace(-80, -40, 50).astype("f4"))
        lat.make_scale("lat")
        lon.make_scale("lon")
        sst = f.create_dataset(
            "sst", data=rng.normal(25, 3, size=(40, 50)).astype("f4"),
            chunks=(10, 25), compression="gzip", compression_opts=6, shuffle=True,
            fillvalue=np.float32(-1e30))
        sst.attrs["units"] = "degC"
        sst.attrs["_FillValue"] = np.float32(-1e30)
        sst.dims[0].attach_scale(lat)
        sst.dims[1].attach_scale(lon)
        depth = f.create_dataset(
            "depth", data=rng.uniform(0, 5000, size=(40, 50)).astype("f8"))
        depth.attrs["long_name"] = "sea floor depth"
        depth.dims[0].attach_scale(lat)
        depth.dims[1].attach_scale(lon)
        # Compact storage keeps the values inside the object header.
        space = h5py.h5s.create_simple((40,))
        plist = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        plist.set_layout(h5py.h5d.COMPACT)
        plist.set_obj_track_times(False)  # no timestamp: the same bytes every run
        dsid = h5py.h5d.create(f.id, b"code", h5py.h5t.STD_I16LE, space, dcpl=plist)
        code = h5py.Dataset(dsid)
        code[:] = np.arange(40, dtype="i2")
        code.dims[0].attach_scale(lat)


def write_netcdf3(path, fmt):
    with netCDF4.Dataset(path, "w", format=fmt) as ds:
        ds.title = f"geoxr fuzz seed written by netCDF4-python as {fmt}"
        ds.createDimension("time", None)
        ds.createDimension("station", 12)
        t = ds.createVariable("time", "i4", ("time",))
        t.units = "hours since 2000-01-01"
        t[:] = np.arange(0, 40, 8, dtype="i4")
        st = ds.createVariable("station", "f8", ("station",))
        st[:] = np.arange(12.0)
        pr = ds.createVariable("pressure", "f4", ("time", "station"), fill_value=np.float32(-1))
        pr.units = "hPa"
        pr[:] = rng.normal(1000, 10, size=(5, 12)).astype("f4")
        wind = ds.createVariable("wind", "i2", ("time", "station"))
        wind.scale_factor = 0.1
        wind[:] = rng.integers(0, 300, size=(5, 12)).astype("i2")
        elev = ds.createVariable("elevation", "i4", ("station",))
        elev[:] = rng.integers(0, 3000, size=12).astype("i4")


def hdf5_data_ranges(path):
    ranges = []

    def visit(_name, obj):
        if not isinstance(obj, h5py.Dataset):
            return
        dsid = obj.id
        layout = dsid.get_create_plist().get_layout()
        if layout == h5py.h5d.CHUNKED:
            for i in range(dsid.get_num_chunks()):
                info = dsid.get_chunk_info(i)
                ranges.append([info.byte_offset, info.size])
        elif layout == h5py.h5d.CONTIGUOUS:
            offset = dsid.get_offset()
            if offset is not None:
                ranges.append([offset, dsid.get_storage_size()])

    with h5py.File(path, "r") as f:
        f.visititems(visit)
    return sorted(ranges)


def netcdf3_data_ranges(path):
    """Everything after the header is data in a classic file: the header ends where
    the first variable's values begin, which its header records."""
    with open(path, "rb") as fh:
        raw = fh.read()
    version = raw[3]
    size_len = 8 if version == 5 else 4
    offset_len = 4 if version == 1 else 8
    pos = 4

    def u(n):
        nonlocal pos
        fmt = {4: ">I", 8: ">Q"}[n]
        (v,) = struct.unpack_from(fmt, raw, pos)
        pos += n
        return v

    def name():
        nonlocal pos
        n = u(size_len if version == 5 else 4)
        pos += (n + 3) // 4 * 4

    type_size = {1: 1, 2: 1, 3: 2, 4: 4, 5: 4, 6: 8, 7: 1, 8: 2, 9: 4, 10: 8, 11: 8}

    def attrs():
        nonlocal pos
        u(4)
        for _ in range(u(size_len)):
            name()
            nc_type = u(4)
            n = u(size_len)
            pos += (n * type_size[nc_type] + 3) // 4 * 4

    u(size_len)  # numrecs
    u(4)
    for _ in range(u(size_len)):
        name()
        u(size_len)
    attrs()
    u(4)
    begins = []
    for _ in range(u(size_len)):
        name()
        for _ in range(u(size_len)):
            u(size_len)
        attrs()
        u(4)
        u(size_len)  # vsize
        begins.append(u(offset_len))
    start = min(begins) if begins else len(raw)
    return [[start, len(raw) - start]]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    written = {
        "netcdf4py.nc": write_netcdf4,
        "h5py.nc": write_h5py,
        "classic.nc": lambda p: write_netcdf3(p, "NETCDF3_CLASSIC"),
        "offset64.nc": lambda p: write_netcdf3(p, "NETCDF3_64BIT_OFFSET"),
    }
    layout = {}
    for name, write in written.items():
        path = os.path.join(out, name)
        write(path)
        layout[path] = None
    for path in sys.argv[2:]:
        layout[path] = None
    for path in layout:
        with open(path, "rb") as fh:
            magic = fh.read(4)
        if magic.startswith(b"CDF"):
            layout[path] = netcdf3_data_ranges(path)
        else:
            layout[path] = hdf5_data_ranges(path)
    json.dump(layout, sys.stdout)
    print()


main()
