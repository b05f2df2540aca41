// Placeholder until StrataNode and LocalCluster land (issue 6).
process.stdout.write('Strata demo: the replicated node (StrataNode/LocalCluster) is not built yet; see README status.\n');
