//! argon2id per implementation at Clavis' default cost (19 MiB, t=2, p=1): the time of one
//! hash on one thread, and of the verification a password login runs (PHC string parsed,
//! hash recomputed, compared). `bench/run` measures the candidates with every core busy.

use clavis_bench::argon::{Candidate, Cost};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn hashing(c: &mut Criterion) {
    let cost = Cost::default();
    let mut group = c.benchmark_group(format!(
        "argon2id m={} t={} p={}",
        cost.memory_kib, cost.iterations, cost.parallelism
    ));
    group.sample_size(20);
    for candidate in Candidate::ALL {
        group.bench_function(candidate.name(), |b| {
            let mut tag = [0u8; 32];
            b.iter(|| {
                candidate
                    .hash(
                        cost,
                        black_box(b"correct horse"),
                        b"sixteen byte slt",
                        &mut tag,
                    )
                    .map(|()| tag)
            })
        });
    }
    let stored = clavis_bench::argon::phc(cost, b"correct horse", b"sixteen byte slt");
    if let Ok(stored) = stored {
        group.bench_function("clavis login verification", |b| {
            b.iter(|| clavis_strategy_password::imported::verify(b"correct horse", &stored))
        });
    }
    group.finish();
}

criterion_group!(benches, hashing);
criterion_main!(benches);
