//! Leading eigenpairs of a symmetric matrix by the locally optimal block
//! preconditioned conjugate gradient method (LOBPCG, Knyazev 2001), for a
//! preconditioner close to `(σI − M)^-1`.
//!
//! Each step multiplies the preconditioner with the residuals `M X − X Θ`, makes the
//! result orthogonal to the current vectors `X` and the previous directions `P`, and
//! runs Rayleigh–Ritz on `[X, P, W]` with the products `M [X, P, W]` kept beside
//! the basis (one product with `M` per step, for `W`). When the preconditioner is
//! the inverse of `σI − M_s` for an `M_s` within `ε` of `M`, the preconditioned
//! operator is within about `ε / (σ − λ_1)` of the identity and every step cuts the
//! residuals by about that factor, however crowded the eigenvalues: this is how
//! the exact spectral solver polishes eigenvectors of a sparsified affinity into
//! eigenvectors of the full one with a handful of products. Every sum runs in a
//! fixed order: the same bits for any number of threads.

use super::eigh::symmetric_eigen;
use ndarray::{concatenate, s, Array2, ArrayView2, Axis};

use super::krylov::{orthogonalise, Eigenpairs};
use crate::error::{Error, Result};

/// Settings of [`lobpcg`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    /// Pairs that must meet `tol`, counted from the largest eigenvalue.
    pub wanted: usize,
    /// Pairs returned (at least `wanted`, at most the start's columns).
    pub returned: usize,
    /// Residual tolerance `|M u − λ u|`.
    pub tol: f64,
    /// Most products with `M` (vectors) before giving up.
    pub max_products: usize,
}

/// Rayleigh–Ritz of `M` on the orthonormal basis `b` (with `mb = M b`): the
/// `count` largest Ritz values and their coefficient vectors.
fn rayleigh_ritz(
    b: &Array2<f64>,
    mb: &Array2<f64>,
    count: usize,
) -> Result<(Vec<f64>, Array2<f64>)> {
    let h = b.t().dot(mb);
    let h = (&h + &h.t()) * 0.5;
    let (theta, y) = symmetric_eigen(h)
        .map_err(|e| Error::invalid("spectral embedding", format!("Rayleigh–Ritz: {e}")))?;
    let mut order: Vec<usize> = (0..theta.len()).collect();
    order.sort_by(|a, c| theta[*c].total_cmp(&theta[*a]));
    let order = &order[..count.min(theta.len())];
    Ok((
        order.iter().map(|i| theta[*i]).collect(),
        y.select(Axis(1), order),
    ))
}

/// The leading eigenpairs of the symmetric `M` (given by `product`), from the
/// columns of `start`, with `precondition` applied to the residuals. When the
/// caller already has `M · start` for orthonormal columns (Ritz vectors of an
/// earlier phase), `start_product` saves that product.
pub(crate) fn lobpcg(
    product: impl Fn(ArrayView2<f64>) -> Array2<f64>,
    precondition: impl Fn(ArrayView2<f64>) -> Array2<f64>,
    start: Array2<f64>,
    start_product: Option<Array2<f64>>,
    settings: Settings,
) -> Result<Eigenpairs> {
    let n = start.nrows();
    let (x0, mx0) = match start_product {
        Some(mx0) if mx0.dim() == start.dim() => (start, Some(mx0)),
        _ => (orthogonalise(&Array2::zeros((n, 0)), 0, start), None),
    };
    let m = x0.ncols();
    if m == 0 {
        return Err(Error::invalid(
            "spectral embedding",
            "the eigen-solver's start block has no independent columns",
        ));
    }
    let returned = settings.returned.max(settings.wanted).min(m);
    let wanted = settings.wanted.min(returned);
    let mut products = 0;
    let mx0 = mx0.unwrap_or_else(|| {
        products += m;
        product(x0.view())
    });
    let (mut theta, y) = rayleigh_ritz(&x0, &mx0, m)?;
    let mut x = x0.dot(&y);
    let mut mx = mx0.dot(&y);
    let mut p = Array2::<f64>::zeros((n, 0));
    let mut mp = Array2::<f64>::zeros((n, 0));
    let mut cycles = 0;
    loop {
        cycles += 1;
        let mut r = mx.clone();
        for (c, t) in theta.iter().enumerate() {
            r.column_mut(c).scaled_add(-t, &x.column(c));
        }
        let residuals: Vec<f64> = r.columns().into_iter().map(|c| c.dot(&c).sqrt()).collect();
        let converged = residuals[..wanted].iter().all(|v| *v <= settings.tol);
        let finish = |x: &Array2<f64>| Eigenpairs {
            values: theta[..returned].to_vec(),
            vectors: x.slice(s![.., ..returned]).to_owned(),
            residuals: residuals[..returned].to_vec(),
            converged,
            cycles,
            products,
        };
        if converged || products >= settings.max_products {
            return Ok(finish(&x));
        }
        let q = concatenate(Axis(1), &[x.view(), p.view()])
            .map_err(|e| Error::invalid("spectral embedding", e.to_string()))?;
        let w = orthogonalise(&q, q.ncols(), precondition(r.view()));
        if w.ncols() == 0 {
            // The preconditioned residuals lie in the basis: nothing left to gain.
            return Ok(finish(&x));
        }
        let mw = product(w.view());
        products += w.ncols();
        let b = concatenate(Axis(1), &[q.view(), w.view()])
            .map_err(|e| Error::invalid("spectral embedding", e.to_string()))?;
        let mb = concatenate(Axis(1), &[mx.view(), mp.view(), mw.view()])
            .map_err(|e| Error::invalid("spectral embedding", e.to_string()))?;
        let (t, y) = rayleigh_ritz(&b, &mb, m)?;
        // The new directions: the parts of the new vectors outside the old ones,
        // made orthonormal and orthogonal to the new vectors in coefficient space
        // (the basis is orthonormal, so the same holds for the vectors themselves).
        let mut yp = y.clone();
        yp.slice_mut(s![..m, ..]).fill(0.0);
        let c = orthogonalise(&y, y.ncols(), yp);
        theta = t;
        x = b.dot(&y);
        mx = mb.dot(&y);
        p = b.dot(&c);
        mp = mb.dot(&c);
    }
}

#[cfg(test)]
mod tests {
    use super::super::krylov::tests::with_spectrum;
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256Plus;

    #[test]
    fn a_near_inverse_preconditioner_resolves_crowded_eigenvalues() {
        // M: eigenvalues within 1e-5 of 1 (twelve of them), then a spread tail;
        // the preconditioner is the exact inverse of σI − (M + E) with E small.
        let n = 240;
        let values: Vec<f64> = (0..n)
            .map(|i| {
                if i < 12 {
                    1.0 - 1e-6 * i as f64
                } else {
                    0.99 - 1.9 * i as f64 / n as f64
                }
            })
            .collect();
        let mut rng = Xoshiro256Plus::seed_from_u64(3);
        let m = with_spectrum(&values, 3);
        let e = Array2::from_shape_fn((n, n), |(i, j)| 1e-9 * (((i * j) % 7) as f64 - 3.0));
        let e = (&e + &e.t()) * 0.5;
        let sigma = 1.0 + 1e-5;
        let shifted = Array2::<f64>::eye(n) * sigma - (&m + &e);
        let (ev, vecs) = symmetric_eigen(shifted).unwrap();
        let inverse = (&vecs * &ev.mapv(|v| 1.0 / v).insert_axis(Axis(0))).dot(&vecs.t());
        let start = Array2::from_shape_fn((n, 12), |_| rng.gen::<f64>() - 0.5);
        let settings = Settings {
            wanted: 8,
            returned: 10,
            tol: 1e-11,
            max_products: 40 * 12,
        };
        let found = lobpcg(|v| m.dot(&v), |r| inverse.dot(&r), start, None, settings).unwrap();
        assert!(found.converged, "{:?}", found.residuals);
        assert!(found.products < 20 * 12, "{} products", found.products);
        for (got, want) in found.values.iter().zip(&values).take(8) {
            assert!((got - want).abs() < 1e-10, "{got} vs {want}");
        }
        let mv = m.dot(&found.vectors);
        for c in 0..8 {
            let r = &mv.column(c) - &(&found.vectors.column(c) * found.values[c]);
            assert!(r.dot(&r).sqrt() <= 1e-11);
        }
    }
}
