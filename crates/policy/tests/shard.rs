//! Sharding a city's cameras across replicas: every camera in exactly one shard, shards of similar size, the
//! same answer in every release, and few cameras moving when a replica is added.

use policy::{Shard, shard_of};

/// 1,790 ids shaped like a district's camera list (Yuseong-gu has 1,790 cameras).
fn city_ids() -> Vec<String> {
    let dongs = [
        "jinjam",
        "wonsinheung",
        "onchun1",
        "onchun2",
        "noeun1",
        "noeun2",
        "noeun3",
        "sinseong",
        "jeonmin",
        "gujeuk",
        "gwanpyeong",
        "hakha",
        "sangdae",
    ];
    (0..1790)
        .map(|i| format!("yuseong-{}-{:04}", dongs[i % dongs.len()], i + 1))
        .collect()
}

#[test]
fn every_camera_is_in_exactly_one_shard_for_1_to_16_replicas() {
    let ids = city_ids();
    for n in 1..=16u32 {
        let shards: Vec<Shard> = (0..n).map(|k| Shard::new(k, n).unwrap()).collect();
        let mut sizes = vec![0usize; n as usize];
        for id in &ids {
            let owners: Vec<u32> = shards
                .iter()
                .filter(|s| s.contains(id))
                .map(|s| s.index)
                .collect();
            assert_eq!(owners.len(), 1, "{id} with {n} shards is in {owners:?}");
            assert_eq!(owners[0], shard_of(id, n));
            sizes[owners[0] as usize] += 1;
        }
        assert_eq!(sizes.iter().sum::<usize>(), ids.len());
        // Balance: every shard within ±30% of the mean (binomial spread at n = 16 is about ±9%).
        let mean = ids.len() as f64 / f64::from(n);
        for (k, &s) in sizes.iter().enumerate() {
            assert!(
                (s as f64) > mean * 0.7 && (s as f64) < mean * 1.3,
                "{n} shards: shard {k} has {s} cameras, mean {mean:.1} ({sizes:?})"
            );
        }
    }
}

#[test]
fn shard_assignment_is_stable_across_releases() {
    // Values from an independent Python implementation of FNV-1a 64 + jump hashing. Hard-coded on purpose:
    // if these change, a new build disagrees with the replicas already running and, during a rolling update,
    // some cameras would be run twice or not at all.
    let expected: [(&str, u32, u32); 8] = [
        ("sim-1", 4, 3),
        ("cam-a", 4, 2),
        ("yuseong-jinjam-0001", 8, 3),
        ("yuseong-hakha-1790", 8, 7),
        ("michuhol-001", 16, 2),
        ("gimje-28", 16, 15),
        ("cam-a", 1, 0),
        ("", 3, 1),
    ];
    for (id, n, k) in expected {
        assert_eq!(shard_of(id, n), k, "shard_of({id:?}, {n})");
    }
}

#[test]
fn adding_a_replica_moves_only_its_share_of_cameras() {
    let ids = city_ids();
    for n in 1..16u32 {
        let moved = ids
            .iter()
            .filter(|id| shard_of(id, n) != shard_of(id, n + 1))
            .count();
        // Jump hashing moves cameras only to the new shard: about 1/(n+1) of them.
        assert!(
            ids.iter()
                .filter(|id| shard_of(id, n) != shard_of(id, n + 1))
                .all(|id| shard_of(id, n + 1) == n),
            "{n} → {}: a camera moved between old shards",
            n + 1
        );
        let share = ids.len() as f64 / f64::from(n + 1);
        assert!(
            (moved as f64) < share * 1.3,
            "{n} → {}: {moved} cameras moved, expected about {share:.0}",
            n + 1
        );
    }
}
