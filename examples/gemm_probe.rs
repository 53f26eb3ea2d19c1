use candle_core::{Device, Tensor};
use std::time::Instant;
fn main() {
    for (m, k, n) in [(1920, 384, 1536), (1920, 1536, 384), (1920, 384, 384)] {
        let a = Tensor::randn(0f32, 1., (m, k), &Device::Cpu).unwrap();
        let b = Tensor::randn(0f32, 1., (k, n), &Device::Cpu).unwrap();
        for _ in 0..3 {
            a.matmul(&b).unwrap();
        }
        let t = Instant::now();
        let r = 50;
        for _ in 0..r {
            a.matmul(&b).unwrap();
        }
        let dt = t.elapsed().as_secs_f64() / r as f64;
        println!(
            "{m} {k} {n} {:.0} GFLOP/s",
            2.0 * (m * k * n) as f64 / dt / 1e9
        );
    }
}
