//! Writes the sample days as NetCDF-4 files laid out like IMERG V06 daily files:
//! dims `(time, lon, lat)`, one day per chunk `(1, 550, 501)`, deflate level 4 with
//! shuffle, `_FillValue` -9999.9f, int32 time in days since 1970-01-01.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::climate::{climatology, day_fields, DayFields, Grid, SmoothField, FILL};
use super::random::Rng;
use super::{file_name, SampleSpec};
use crate::error::{Error, Result};
use crate::model::Calendar;

/// Days computed in parallel before being written one after another (the NetCDF
/// library takes one call at a time).
const BATCH: usize = 8;

pub(crate) fn write_all(spec: &SampleSpec, dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::File {
        path: dir.to_owned(),
        reason: format!("cannot create the folder: {e}"),
    })?;
    let grid = Grid::south_america();
    let climate: Vec<(f64, f64)> = grid
        .lon
        .iter()
        .flat_map(|&lon| {
            grid.lat
                .iter()
                .map(move |&lat| climatology(lon as f64, lat as f64))
        })
        .collect();
    // Large storm systems persist from one day to the next: an AR(1) in time.
    let mut rng = Rng::stream(spec.seed, u64::MAX, 0);
    let mut storms = vec![SmoothField::new(&grid, 3.0, &mut rng)];
    for _ in 1..spec.days {
        let fresh = SmoothField::new(&grid, 3.0, &mut rng);
        let next = storms[storms.len() - 1].blend(0.6, &fresh, 0.8);
        storms.push(next);
    }
    let (y, m, d) = spec.start;
    let first_day = spec.calendar.days_from_epoch(y, m, d);
    let mut paths = Vec::with_capacity(spec.days);
    for batch_start in (0..spec.days).step_by(BATCH) {
        let batch: Vec<usize> = (batch_start..(batch_start + BATCH).min(spec.days)).collect();
        let fields: Vec<DayFields> = batch
            .par_iter()
            .map(|&i| {
                let day = first_day + i as i64;
                let (y, _, _) = spec.calendar.ymd_from_days(day);
                let day_of_year = (day - spec.calendar.days_from_epoch(y, 1, 1)) as f64;
                day_fields(
                    &grid,
                    &climate,
                    day_of_year,
                    &storms[i],
                    spec.seed,
                    i as u64,
                )
            })
            .collect();
        for (&i, day) in batch.iter().zip(&fields) {
            let days = first_day + i as i64;
            let (y, m, d) = spec.calendar.ymd_from_days(days);
            let path = dir.join(file_name(y, m, d));
            write_day(&path, &grid, spec.calendar, days, (y, m, d), day)?;
            paths.push(path);
        }
    }
    Ok(paths)
}

fn write_day(
    path: &Path,
    grid: &Grid,
    calendar: Calendar,
    days: i64,
    (y, m, d): (i64, u32, u32),
    fields: &DayFields,
) -> Result<()> {
    crate::base::fsx::write_atomic(path, |temporary| {
        write_netcdf(temporary, grid, calendar, days, (y, m, d), fields).map_err(|e| Error::File {
            path: path.to_owned(),
            reason: e.to_string(),
        })
    })
}

fn write_netcdf(
    path: &Path,
    grid: &Grid,
    calendar: Calendar,
    days: i64,
    (y, m, d): (i64, u32, u32),
    fields: &DayFields,
) -> netcdf::Result<()> {
    let (nlon, nlat) = (grid.lon.len(), grid.lat.len());
    let date = format!("{y:04}-{m:02}-{d:02}");
    let mut file = netcdf::create(path)?;
    file.add_unlimited_dimension("time")?;
    file.add_dimension("lon", nlon)?;
    file.add_dimension("lat", nlat)?;
    file.add_dimension("nv", 2)?;

    let global = [
        ("BeginDate", date.clone()),
        ("BeginTime", "00:00:00.000Z".to_owned()),
        ("EndDate", date.clone()),
        ("EndTime", "23:59:59.999Z".to_owned()),
        (
            "FileHeader",
            format!(
            "StartGranuleDateTime={date}T00:00:00.000Z;\nStopGranuleDateTime={date}T23:59:59.999Z"
        ),
        ),
        (
            "InputPointer",
            format!("3B-HHR.MS.MRG.3IMERG.{y:04}{m:02}{d:02}-S000000-E002959.0000.V06B.HDF5;..."),
        ),
        (
            "title",
            "GPM IMERG Final Precipitation L3 1 day 0.1 degree x 0.1 degree (GPM_3IMERGDF)"
                .to_owned(),
        ),
        ("DOI", "10.5067/GPM/IMERGDF/DAY/06".to_owned()),
        ("ProductionTime", "2019-06-21T00:00:00.000Z".to_owned()),
        (
            "history",
            "Synthetic sample written by geoxr's imerg-sample generator in the layout of \
            GES DISC subsets of GPM_3IMERGDF V06; not NASA data."
                .to_owned(),
        ),
    ];
    for (name, value) in global {
        file.add_attribute(name, value)?;
    }

    let mut lon = file.add_variable::<f32>("lon", &["lon"])?;
    lon.put_attribute("units", "degrees_east")?;
    lon.put_attribute("long_name", "Longitude")?;
    lon.put_values(&grid.lon, ..)?;
    let mut lat = file.add_variable::<f32>("lat", &["lat"])?;
    lat.put_attribute("units", "degrees_north")?;
    lat.put_attribute("long_name", "Latitude")?;
    lat.put_values(&grid.lat, ..)?;

    let units = "days since 1970-01-01 00:00:00Z";
    let mut time = file.add_variable::<i32>("time", &["time"])?;
    time.put_attribute("standard_name", "time")?;
    time.put_attribute("bounds", "time_bnds")?;
    time.put_attribute("units", units)?;
    time.put_attribute("calendar", calendar.name())?;
    time.put_values(&[days as i32], (&[0], &[1]))?;
    let mut bounds = file.add_variable::<i32>("time_bnds", &["time", "nv"])?;
    bounds.put_attribute("units", units)?;
    bounds.put_attribute("calendar", calendar.name())?;
    bounds.put_values(&[days as i32, days as i32 + 1], (&[0, 0], &[1, 2]))?;

    let dims = ["time", "lon", "lat"];
    let extent = (&[0usize, 0, 0], &[1usize, nlon, nlat]);
    let floats = [
        (
            "precipitationCal",
            "Daily accumulated precipitation (combined microwave-IR) estimate",
            &fields.precipitation_cal,
        ),
        (
            "HQprecipitation",
            "Daily accumulated High Quality precipitation from all available MW sources",
            &fields.hq_precipitation,
        ),
        (
            "randomError",
            "Daily total error of precipitation estimate",
            &fields.random_error,
        ),
    ];
    for (name, long_name, values) in floats {
        let mut v = file.add_variable::<f32>(name, &dims)?;
        v.set_chunking(&[1, nlon, nlat])?;
        v.set_compression(4, true)?;
        v.set_fill_value(FILL)?;
        v.put_attribute("units", "mm")?;
        v.put_attribute("long_name", long_name)?;
        v.put_attribute("origname", name)?;
        v.put_attribute("fullnamepath", format!("/{name}"))?;
        v.put_values(values, extent)?;
    }
    let counts = [
        (
            "precipitationCal_cnt",
            "Count of all valid half-hourly precipitationCal retrievals for the day",
            &fields.precipitation_cal_cnt,
        ),
        (
            "HQprecipitation_cnt",
            "Count of all valid half-hourly HQprecipitation retrievals for the day",
            &fields.hq_precipitation_cnt,
        ),
    ];
    for (name, long_name, values) in counts {
        let mut v = file.add_variable::<i16>(name, &dims)?;
        v.set_chunking(&[1, nlon, nlat])?;
        v.set_compression(4, true)?;
        v.put_attribute("units", "count")?;
        v.put_attribute("long_name", long_name)?;
        v.put_attribute("origname", name)?;
        v.put_attribute("fullnamepath", format!("/{name}"))?;
        v.put_values(values, extent)?;
    }
    file.close()
}
