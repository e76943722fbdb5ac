//! `tdm-workbench morph`: generate walker morphologies and look at them.
use crate::envs::walkers::{Family, KinematicTree, check_family_rule, generate, to_mjcf};
use crate::files::atomic_write;
use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Subcommand, Debug)]
pub enum MorphCommand {
    /// Generate walkers: one JSON tree and one MJCF per walker, plus index.json.
    Generate(GenerateArgs),
    /// Print a tree (ASCII) and its degrees of freedom.
    Show {
        /// A tree JSON file.
        file: PathBuf,
    },
}

#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// line, chain, bush or tree.
    #[arg(long)]
    family: String,
    /// Degrees of freedom: a number (8) or an inclusive range (4..=20), drawn uniformly.
    #[arg(long, default_value = "4..=20")]
    dof: String,
    #[arg(long, default_value_t = 1)]
    count: usize,
    /// Walker i uses seed + i.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long)]
    out: PathBuf,
}

#[derive(Serialize)]
struct IndexEntry {
    name: String,
    json: String,
    mjcf: String,
    family: &'static str,
    dof: usize,
    seed: u64,
}

/// Parses "8" or "4..=20" (also "4..20", exclusive) into an inclusive range.
fn parse_dof(s: &str) -> anyhow::Result<(usize, usize)> {
    let bad = || format!("--dof '{s}': expected a number like 8 or a range like 4..=20");
    let (lo, hi) = if let Some((a, b)) = s.split_once("..=") {
        (
            a.trim().parse::<usize>().with_context(bad)?,
            b.trim().parse::<usize>().with_context(bad)?,
        )
    } else if let Some((a, b)) = s.split_once("..") {
        let b = b.trim().parse::<usize>().with_context(bad)?;
        (
            a.trim().parse::<usize>().with_context(bad)?,
            b.checked_sub(1).with_context(bad)?,
        )
    } else {
        let n = s.trim().parse::<usize>().with_context(bad)?;
        (n, n)
    };
    let (min, max) = crate::envs::walkers::params::DOF_BOUNDS;
    if lo > hi || lo < min || hi > max {
        bail!("--dof '{s}': must lie within {min}..={max} with the low end first");
    }
    Ok((lo, hi))
}

pub fn run(cmd: &MorphCommand) -> anyhow::Result<()> {
    match cmd {
        MorphCommand::Generate(args) => generate_cmd(args),
        MorphCommand::Show { file } => show(file),
    }
}

fn generate_cmd(args: &GenerateArgs) -> anyhow::Result<()> {
    let Some(family) = Family::parse(&args.family) else {
        bail!(
            "--family '{}': expected one of line, chain, bush, tree",
            args.family
        );
    };
    let (lo, hi) = parse_dof(&args.dof)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let mut index = Vec::with_capacity(args.count);
    for i in 0..args.count {
        let seed = args.seed + i as u64;
        let dof = StdRng::seed_from_u64(seed).random_range(lo..=hi);
        let tree = generate(family, dof, seed);
        let name = format!("{}-{dof:02}dof-seed{seed}", family.name());
        let json = format!("{name}.json");
        let mjcf = format!("{name}.xml");
        let write = |file: &str, text: &str| {
            let path = args.out.join(file);
            atomic_write(&path, text.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))
        };
        write(&json, &tree.to_json())?;
        write(&mjcf, &to_mjcf(&tree, &name))?;
        index.push(IndexEntry {
            name,
            json,
            mjcf,
            family: family.name(),
            dof,
            seed,
        });
    }
    let index_path = args.out.join("index.json");
    atomic_write(
        &index_path,
        serde_json::to_string_pretty(&index)?.as_bytes(),
    )
    .with_context(|| format!("cannot write {}", index_path.display()))?;
    let dofs: Vec<usize> = index.iter().map(|e| e.dof).collect();
    println!(
        "wrote {} {} walkers ({}..={} DoF) to {}",
        index.len(),
        family.name(),
        dofs.iter().min().unwrap_or(&0),
        dofs.iter().max().unwrap_or(&0),
        args.out.display()
    );
    Ok(())
}

fn show(file: &Path) -> anyhow::Result<()> {
    let tree = KinematicTree::load(file)?;
    print!("{}", tree.ascii());
    if let Some(origin) = tree.origin {
        match check_family_rule(&tree, origin.family) {
            Ok(()) => println!("obeys the {} family's rule", origin.family.name()),
            Err(why) => println!("breaks the {} family's rule: {why}", origin.family.name()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_dof;

    #[test]
    fn dof_ranges_parse() {
        assert_eq!(parse_dof("8").unwrap(), (8, 8));
        assert_eq!(parse_dof("4..=20").unwrap(), (4, 20));
        assert_eq!(parse_dof("4..20").unwrap(), (4, 19));
        assert!(parse_dof("0..=3").is_err());
        assert!(parse_dof("20..=4").is_err());
        assert!(parse_dof("4..=99").is_err());
        assert!(parse_dof("many").is_err());
    }
}
