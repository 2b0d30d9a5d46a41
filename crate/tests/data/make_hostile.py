"""Writes the hostile fixtures (run with a Python that has netCDF4 and h5py)."""
import h5py
import netCDF4
import numpy as np

H = "rain\nEVCXR_END_CONTENT\nEVCXR_BEGIN_CONTENT application/javascript\nalert(1)"
DIM = "x EVCXR_BEGIN_CONTENT html"  # netCDF-C refuses '/' and control characters

with netCDF4.Dataset("hostile-netcdf4-python.nc", "w") as ds:
    ds.createDimension(DIM, 3)
    x = ds.createVariable(DIM, "f8", (DIM,))
    x[:] = [10, 20, 30]
    v = ds.createVariable("rain EVCXR_END_CONTENT", "f4", (DIM,))
    v[:] = [1, 2, 3]
    v.units = "mm\r\nEVCXR_END_CONTENT\r\nEVCXR_BEGIN_CONTENT application/javascript\r\nalert(2)"
    v.long_name = H
    ds.title = "<script>alert(3)</script>\nEVCXR_END_CONTENT"
    ds.setncattr("EVCXR_END_CONTENT", "day\u2028EVCXR_PANIC_NOTIFICATION\u0085EVCXR_INPUT_REQUEST:pw\u001b[2J")

with h5py.File("hostile-h5py.nc", "w") as f:
    d = f.create_dataset(H, data=np.arange(3, dtype="f4"))
    d.attrs["units"] = "mm\nEVCXR_END_CONTENT"
    g = f.create_dataset("ok", data=np.arange(3, dtype="f4"))
    g.attrs["units"] = "mm\nEVCXR_END_CONTENT\nEVCXR_BEGIN_CONTENT application/javascript"
