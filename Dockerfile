# The heron image for Kubernetes (profiles/kubernetes): heron, Snakemake and the S3
# storage plugin the pods use to fetch inputs and store outputs.
#   docker build -t registry.example.org/lab/heron:0.1.0 .
#   docker push registry.example.org/lab/heron:0.1.0
FROM python:3.11-slim

# bcftools left-aligns indels when the config names a reference FASTA.
RUN apt-get update \
    && apt-get install -y --no-install-recommends bcftools \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/heron
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-cache-dir . "snakemake-storage-plugin-s3>=0.3,<1"

# Snakemake starts each job in the pod with its own command; this is for interactive use.
WORKDIR /work
CMD ["heron", "--help"]
