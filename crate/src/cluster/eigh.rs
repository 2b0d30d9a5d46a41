//! Eigen-decomposition of small dense symmetric matrices: the Rayleigh–Ritz steps of
//! the Krylov and LOBPCG solvers and the Nyström sampled block (a few hundred rows
//! at most).
//!
//! Two classical steps: Householder reflections bring the matrix to tridiagonal
//! form `A = Q T Qᵀ`, then the implicit QL iteration with Wilkinson's shift
//! diagonalises `T` by plane rotations, applied to `Qᵀ` as they are made. The
//! eigenvectors are kept as the rows of one row-major buffer, so that every
//! rotation combines two contiguous rows. An off-diagonal entry is dropped once it
//! is below ε times the norm of `T` (as EISPACK's `tql2` does), which keeps the
//! iteration finite on graphs with many zero eigenvalues.
//!
//! Written here rather than taken from linfa-linalg, whose ndarray is not the one
//! the NetCDF reader uses: two copies of ndarray cost build time and, in the
//! notebook, seconds of every kernel start (evcxr's rust-analyzer reads each
//! crate of the graph).

use ndarray::{Array1, Array2};

/// QL sweeps allowed per eigenvalue; it usually takes two or three.
const SWEEPS_PER_EIGENVALUE: usize = 60;

/// Why a decomposition failed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum EighError {
    /// The matrix is not square.
    NotSquare(usize, usize),
    /// An entry is NaN or infinite.
    NotFinite,
    /// The QL iteration did not settle an eigenvalue within its sweeps.
    NoConvergence(usize),
}

impl std::fmt::Display for EighError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EighError::NotSquare(r, c) => write!(f, "the matrix is {r} × {c}, not square"),
            EighError::NotFinite => write!(f, "the matrix has a NaN or infinite entry"),
            EighError::NoConvergence(i) => write!(
                f,
                "eigenvalue {i} did not converge in {SWEEPS_PER_EIGENVALUE} QL sweeps"
            ),
        }
    }
}

/// Eigenvalues in ascending order, and the unit eigenvectors as the matching
/// columns, of the symmetric matrix `a` (only its lower triangle is read).
pub(crate) fn symmetric_eigen(a: Array2<f64>) -> Result<(Array1<f64>, Array2<f64>), EighError> {
    let n = a.nrows();
    let (mut d, mut e, mut vt, scale) = tridiagonalise(a, true)?;
    diagonalise(&mut d, &mut e, Some(&mut vt), n)?;
    let order = ascending(&d);
    let values = order.iter().map(|i| d[*i] * scale).collect();
    let vectors = Array2::from_shape_fn((n, n), |(r, c)| vt[order[c] * n + r]);
    Ok((values, vectors))
}

/// The eigenvalues of the symmetric matrix `a` in ascending order (its lower
/// triangle is read); cheaper than [`symmetric_eigen`], which also finds vectors.
pub(crate) fn symmetric_eigenvalues(a: Array2<f64>) -> Result<Array1<f64>, EighError> {
    let n = a.nrows();
    let (mut d, mut e, _, scale) = tridiagonalise(a, false)?;
    diagonalise(&mut d, &mut e, None, n)?;
    Ok(ascending(&d).iter().map(|i| d[*i] * scale).collect())
}

fn ascending(d: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..d.len()).collect();
    order.sort_by(|i, j| d[*i].total_cmp(&d[*j]));
    order
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// `A / scale = Q T Qᵀ`, with `scale` the largest entry's magnitude (so that no
/// step over- or underflows): the diagonal `d` of `T`, its off-diagonal `e`
/// (`e[i] = T[i, i+1]`, last entry 0), `Qᵀ` row-major when `vectors` (else empty),
/// and `scale`.
#[allow(clippy::type_complexity)]
fn tridiagonalise(
    a: Array2<f64>,
    vectors: bool,
) -> Result<(Vec<f64>, Vec<f64>, Vec<f64>, f64), EighError> {
    let (n, cols) = a.dim();
    if n != cols {
        return Err(EighError::NotSquare(n, cols));
    }
    // The lower triangle mirrored: row k right of the diagonal is column k below it.
    let mut w = vec![0.0; n * n];
    for ((r, c), v) in a.indexed_iter() {
        if c <= r {
            if !v.is_finite() {
                return Err(EighError::NotFinite);
            }
            w[r * n + c] = *v;
            w[c * n + r] = *v;
        }
    }
    let scale = w.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let scale = if scale > 0.0 { scale } else { 1.0 };
    w.iter_mut().for_each(|v| *v /= scale);
    let mut reflectors = Vec::new();
    for k in 0..n.saturating_sub(2) {
        // The reflection H = I - β v vᵀ that maps x, the part of column k below the
        // diagonal, onto a multiple of the first unit vector.
        let mut v = w[k * n + k + 1..(k + 1) * n].to_vec();
        let scale = v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        if scale == 0.0 {
            continue;
        }
        let norm = scale * v.iter().map(|x| (x / scale).powi(2)).sum::<f64>().sqrt();
        let alpha = if v[0] > 0.0 { -norm } else { norm };
        v[0] -= alpha;
        let beta = 2.0 / dot(&v, &v);
        // The trailing block B becomes H B H = B - v qᵀ - q vᵀ, with p = β B v and
        // q = p - (β/2)(pᵀv) v.
        let trailing = |i: usize| (k + 1 + i) * n + k + 1..(k + 2 + i) * n;
        let p: Vec<f64> = (0..v.len())
            .map(|i| beta * dot(&w[trailing(i)], &v))
            .collect();
        let half = 0.5 * beta * dot(&p, &v);
        let q: Vec<f64> = p.iter().zip(&v).map(|(p, v)| p - half * v).collect();
        for i in 0..v.len() {
            let (vi, qi) = (v[i], q[i]);
            for ((b, vj), qj) in w[trailing(i)].iter_mut().zip(&v).zip(&q) {
                *b -= vi * qj + qi * vj;
            }
        }
        w[k * n + k + 1] = alpha;
        if vectors {
            reflectors.push((k, v, beta));
        }
    }
    let d: Vec<f64> = (0..n).map(|i| w[i * n + i]).collect();
    let e: Vec<f64> = (0..n)
        .map(|i| if i + 1 < n { w[i * n + i + 1] } else { 0.0 })
        .collect();
    if !vectors {
        return Ok((d, e, Vec::new(), scale));
    }
    // Qᵀ = H_last ⋯ H_1 H_0, each reflection applied from the left to the rows it
    // touches.
    let mut qt = vec![0.0; n * n];
    for i in 0..n {
        qt[i * n + i] = 1.0;
    }
    for (k, v, beta) in reflectors {
        let rows = &mut qt[(k + 1) * n..];
        let mut u = vec![0.0; n];
        for (row, vi) in rows.chunks_exact(n).zip(&v) {
            for (u, x) in u.iter_mut().zip(row) {
                *u += vi * x;
            }
        }
        for (row, vi) in rows.chunks_exact_mut(n).zip(&v) {
            let f = beta * vi;
            for (x, u) in row.iter_mut().zip(&u) {
                *x -= f * u;
            }
        }
    }
    Ok((d, e, qt, scale))
}

/// The implicit QL iteration on the tridiagonal `(d, e)`: `d` ends as the
/// eigenvalues, and each rotation is applied to the rows of `vt` (`n × n`).
fn diagonalise(
    d: &mut [f64],
    e: &mut [f64],
    mut vt: Option<&mut Vec<f64>>,
    n: usize,
) -> Result<(), EighError> {
    // An off-diagonal entry below ε‖T‖ is negligible: dropping it moves no
    // eigenvalue by more than rounding already does. (A test relative to its two
    // diagonal neighbours alone can never pass when both are zero.)
    let norm = (0..n).fold(0.0f64, |m, i| {
        let before = if i > 0 { e[i - 1].abs() } else { 0.0 };
        m.max(d[i].abs() + e[i].abs() + before)
    });
    let negligible = f64::EPSILON * norm;
    for l in 0..n {
        let mut sweeps = 0;
        loop {
            // The first negligible off-diagonal entry at or after l splits T there.
            let mut m = l;
            while m + 1 < n && e[m].abs() > negligible {
                m += 1;
            }
            if m == l {
                break;
            }
            sweeps += 1;
            if sweeps > SWEEPS_PER_EIGENVALUE {
                return Err(EighError::NoConvergence(l));
            }
            // Wilkinson's shift from the leading 2 × 2 block, then a chase of the
            // bulge from m up to l.
            let mut g = (d[l + 1] - d[l]) / (2.0 * e[l]);
            let r = g.hypot(1.0);
            g = d[m] - d[l] + e[l] / (g + if g >= 0.0 { r } else { -r });
            let (mut s, mut c, mut p) = (1.0, 1.0, 0.0);
            let mut split = false;
            for i in (l..m).rev() {
                let f = s * e[i];
                let b = c * e[i];
                let r = f.hypot(g);
                e[i + 1] = r;
                if r == 0.0 {
                    // An off-diagonal entry underflowed: T splits at i + 1.
                    d[i + 1] -= p;
                    e[m] = 0.0;
                    split = true;
                    break;
                }
                s = f / r;
                c = g / r;
                g = d[i + 1] - p;
                let t = (d[i] - g) * s + 2.0 * c * b;
                p = s * t;
                d[i + 1] = g + p;
                g = c * t - b;
                if let Some(vt) = vt.as_deref_mut() {
                    let (upper, lower) = vt[i * n..(i + 2) * n].split_at_mut(n);
                    for (x, y) in upper.iter_mut().zip(lower) {
                        let (xi, yi) = (*x, *y);
                        *y = s * xi + c * yi;
                        *x = c * xi - s * yi;
                    }
                }
            }
            if split {
                continue;
            }
            d[l] -= p;
            e[l] = g;
            e[m] = 0.0;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256Plus;

    /// A random orthogonal matrix (Gram–Schmidt on random columns, twice).
    fn orthogonal(n: usize, rng: &mut Xoshiro256Plus) -> Array2<f64> {
        let mut q = Array2::from_shape_fn((n, n), |_| rng.gen::<f64>() - 0.5);
        for _ in 0..2 {
            for j in 0..n {
                for i in 0..j {
                    let proj = q.column(i).dot(&q.column(j));
                    let qi = q.column(i).to_owned();
                    q.column_mut(j).scaled_add(-proj, &qi);
                }
                let norm = q.column(j).dot(&q.column(j)).sqrt();
                q.column_mut(j).mapv_inplace(|v| v / norm);
            }
        }
        q
    }

    /// `Q diag(λ) Qᵀ`, the symmetric matrix with the given spectrum.
    fn with_spectrum(values: &[f64], rng: &mut Xoshiro256Plus) -> Array2<f64> {
        let q = orthogonal(values.len(), rng);
        let scaled = &q * &Array1::from(values.to_vec());
        let a = scaled.dot(&q.t());
        (&a + &a.t()) * 0.5
    }

    fn check(a: &Array2<f64>, want: &[f64], tol: f64) {
        let n = a.nrows();
        let (values, vectors) = symmetric_eigen(a.clone()).unwrap();
        let only = symmetric_eigenvalues(a.clone()).unwrap();
        let mut want = want.to_vec();
        want.sort_by(f64::total_cmp);
        let size = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for i in 0..n {
            assert!(
                (values[i] - want[i]).abs() <= tol * size,
                "λ{i}: {} vs {}",
                values[i],
                want[i]
            );
            assert!((only[i] - values[i]).abs() <= tol * size);
        }
        let residual = a.dot(&vectors) - &vectors * &values;
        let worst = residual.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(worst <= tol * size, "residual {worst}");
        let gram = vectors.t().dot(&vectors) - Array2::<f64>::eye(n);
        let worst = gram.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(worst <= tol, "orthogonality {worst}");
    }

    #[test]
    fn known_spectra_are_recovered() {
        let mut rng = Xoshiro256Plus::seed_from_u64(7);
        for n in [1, 2, 3, 5, 17, 64, 150] {
            let values: Vec<f64> = (0..n).map(|_| rng.gen::<f64>() * 4.0 - 2.0).collect();
            check(&with_spectrum(&values, &mut rng), &values, 1e-12 * n as f64);
        }
    }

    #[test]
    fn repeated_clustered_and_zero_eigenvalues() {
        let mut rng = Xoshiro256Plus::seed_from_u64(11);
        // A Ritz block near convergence: values crowding against 1, some repeated.
        let values = [
            1.0,
            1.0,
            1.0 - 1e-13,
            0.999,
            0.5,
            0.5,
            0.0,
            0.0,
            -1e-9,
            2e-16,
        ];
        check(&with_spectrum(&values, &mut rng), &values, 1e-12);
        check(&Array2::zeros((4, 4)), &[0.0; 4], 0.0);
        let diagonal = Array2::from_diag(&Array1::from(vec![3.0, -1.0, 2.0]));
        check(&diagonal, &[3.0, -1.0, 2.0], 0.0);
    }

    #[test]
    fn graded_and_already_tridiagonal_matrices() {
        // The second-difference matrix: λ_k = 2 - 2 cos(kπ/(n+1)).
        let n = 40;
        let t = Array2::from_shape_fn((n, n), |(i, j)| match i.abs_diff(j) {
            0 => 2.0,
            1 => -1.0,
            _ => 0.0,
        });
        let want: Vec<f64> = (1..=n)
            .map(|k| 2.0 - 2.0 * (k as f64 * std::f64::consts::PI / (n as f64 + 1.0)).cos())
            .collect();
        check(&t, &want, 1e-13 * n as f64);
        // Entries spanning 12 orders of magnitude.
        let mut rng = Xoshiro256Plus::seed_from_u64(3);
        let values: Vec<f64> = (0..12).map(|i| 10f64.powi(-i)).collect();
        check(&with_spectrum(&values, &mut rng), &values, 1e-13);
    }

    #[test]
    fn only_the_lower_triangle_is_read() {
        let mut rng = Xoshiro256Plus::seed_from_u64(5);
        let values = [4.0, 1.0, -2.0, 0.5];
        let a = with_spectrum(&values, &mut rng);
        let mut upper_garbage = a.clone();
        upper_garbage[[0, 3]] = f64::NAN;
        upper_garbage[[1, 2]] = 1e300;
        let (got, _) = symmetric_eigen(upper_garbage).unwrap();
        let (want, _) = symmetric_eigen(a).unwrap();
        assert_eq!(got, want);
    }

    #[test]
    fn bad_input_is_an_error_not_a_hang() {
        let mut a = Array2::<f64>::eye(3);
        a[[2, 0]] = f64::NAN;
        assert_eq!(symmetric_eigen(a).unwrap_err(), EighError::NotFinite);
        let a = Array2::<f64>::zeros((2, 3));
        assert_eq!(
            symmetric_eigenvalues(a).unwrap_err(),
            EighError::NotSquare(2, 3)
        );
        let (values, vectors) = symmetric_eigen(Array2::zeros((0, 0))).unwrap();
        assert_eq!((values.len(), vectors.dim()), (0, (0, 0)));
    }

    /// Residual, orthogonality, trace and Frobenius norm of a decomposition of `a`
    /// whose spectrum is not known in closed form.
    fn check_invariants(a: &Array2<f64>, tol: f64) {
        let n = a.nrows();
        let (values, vectors) = symmetric_eigen(a.clone()).unwrap();
        let residual = a.dot(&vectors) - &vectors * &values;
        let worst = residual.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(worst <= tol, "residual {worst}");
        let gram = vectors.t().dot(&vectors) - Array2::<f64>::eye(n);
        let worst = gram.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(worst <= tol, "orthogonality {worst}");
        let trace: f64 = (0..n).map(|i| a[[i, i]]).sum();
        assert!((values.sum() - trace).abs() <= tol * n as f64);
        let frobenius: f64 = a.iter().map(|v| v * v).sum();
        let squares: f64 = values.iter().map(|v| v * v).sum();
        assert!((squares - frobenius).abs() <= tol * n as f64);
    }

    /// The graphs of spectral clustering: exp(-γ d²) between `n` points in `dims`
    /// dimensions, zero diagonal, scaled by D^-1/2 on both sides. A share `dry` of
    /// the points are the zero series of dry pixels, equal rows of the matrix.
    fn normalised_affinity(n: usize, dims: usize, gamma: f64, dry: f64, seed: u64) -> Array2<f64> {
        let mut rng = Xoshiro256Plus::seed_from_u64(seed);
        let points = Array2::from_shape_fn((n, dims), |(i, k)| {
            let rain = rng.gen::<f64>();
            if (i as f64) < dry * n as f64 || rain < 0.5 {
                0.0
            } else {
                (i % 5) as f64 * 3.0 + rain * (k % 3) as f64
            }
        });
        let mut a = Array2::from_shape_fn((n, n), |(i, j)| {
            let d: f64 = (0..dims)
                .map(|k| (points[[i, k]] - points[[j, k]]).powi(2))
                .sum();
            if i == j {
                0.0
            } else {
                (-gamma * d).exp()
            }
        });
        let sq: Vec<f64> = a
            .rows()
            .into_iter()
            .map(|r| r.sum())
            .map(|d| if d > 0.0 { d.sqrt() } else { 1.0 })
            .collect();
        for ((i, j), v) in a.indexed_iter_mut() {
            *v /= sq[i] * sq[j];
        }
        a
    }

    #[test]
    fn normalised_affinities_with_many_vanishing_eigenvalues_converge() {
        // Equal rows leave many eigenvalues zero, which rounding turns into about
        // 1e-17 (a dense solve once failed to converge on such a graph of sample
        // rainfall); far apart points make entries underflow to zero or to
        // subnormal numbers.
        for (n, dims, gamma, dry) in [
            (400, 24, 1.0 / 24.0, 0.6),
            (300, 4, 0.05, 0.0),
            (200, 3, 700.0, 0.3),
        ] {
            check_invariants(&normalised_affinity(n, dims, gamma, dry, 17), 1e-10);
        }
    }

    /// Reads whitespace-separated matrix rows on stdin, prints LAPACK's eigenvalues
    /// (numpy's `eigvalsh`, i.e. `syevd`), one per line, ascending.
    const NUMPY_EIGVALSH: &str = "import sys, numpy as np\n\
        a = np.array([[float(x) for x in l.split()] for l in sys.stdin if l.strip()])\n\
        print('\\n'.join(repr(float(v)) for v in np.linalg.eigvalsh(a)))\n";

    #[test]
    fn eigenvalues_agree_with_lapack() {
        // An implementation we did not write: numpy (the project venv's, through
        // the same Python that writes the NetCDF fixtures) on the same matrices.
        use std::io::Write;
        let mut rng = Xoshiro256Plus::seed_from_u64(23);
        let random = Array2::from_shape_fn((120, 120), |_| rng.gen::<f64>() - 0.5);
        let cases = [
            (
                "sample-like affinity",
                normalised_affinity(400, 24, 1.0 / 24.0, 0.6, 29),
            ),
            (
                "spread affinity",
                normalised_affinity(250, 4, 0.05, 0.0, 31),
            ),
            ("random symmetric", &random + &random.t()),
        ];
        for (name, a) in cases {
            let mut child = crate::io::python_command()
                .args(["-c", NUMPY_EIGVALSH])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            let mut text = String::new();
            for row in a.rows() {
                let row: Vec<String> = row.iter().map(|v| format!("{v:?}")).collect();
                text.push_str(&row.join(" "));
                text.push('\n');
            }
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "{name}: numpy failed");
            let want: Vec<f64> = String::from_utf8(out.stdout)
                .unwrap()
                .lines()
                .map(|l| l.parse().unwrap())
                .collect();
            let got = symmetric_eigenvalues(a.clone()).unwrap();
            assert_eq!(got.len(), want.len(), "{name}");
            let size = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert!(
                    (g - w).abs() <= 1e-12 * size,
                    "{name}: λ{i} {g} vs LAPACK {w}"
                );
            }
        }
    }

    #[test]
    fn huge_and_tiny_entries_neither_overflow_nor_underflow() {
        // a I + b (J - I) has the eigenvalues a + 2b, a - b, a - b.
        for (a, b) in [(1e300, 1e299), (1e-300, 1e-301)] {
            let m = Array2::from_shape_fn((3, 3), |(i, j)| if i == j { a } else { b });
            check(&m, &[a + 2.0 * b, a - b, a - b], 1e-14);
        }
    }
}
