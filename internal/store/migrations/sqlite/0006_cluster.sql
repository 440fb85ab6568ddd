-- Several nodes: each shares its signal counts of the last seconds here,
-- so that whichever node evaluates the monitor's rules sees every node's
-- signals within a second or two. A node keeps only its last 20 minutes.
CREATE TABLE metric_seconds (
    second INTEGER NOT NULL,
    node   TEXT NOT NULL,
    data   TEXT NOT NULL,
    PRIMARY KEY (second, node)
);
