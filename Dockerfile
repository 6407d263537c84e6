# ember as a drop-in for the SageMaker SparkML Serving container.
#
#   docker build -t ember .
#   docker run -p 8080:8080 -v /path/to/model:/opt/ml/model \
#     -e SAGEMAKER_SPARKML_SCHEMA="$(cat schema.json)" ember serve
#
# SageMaker starts the container as `docker run <image> serve`: the ENTRYPOINT is the ember
# binary, so that argument selects `ember serve`, which loads /opt/ml/model (a Spark
# PipelineModel directory or an MLeap bundle, unpacked or not) and listens on
# SAGEMAKER_BIND_TO_PORT (default 8080).

# ---- build ----------------------------------------------------------------------------------
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
# a stripped release binary; the DataFusion build takes 20+ minutes on 2 cores
ENV CARGO_PROFILE_RELEASE_STRIP=true
RUN cargo build --release --locked -p ember-server --bin ember \
 && cp target/release/ember /usr/local/bin/ember

# ---- runtime: one static-ish binary on a slim base --------------------------------------------
FROM debian:bookworm-slim
RUN useradd --system --no-create-home ember
COPY --from=build /usr/local/bin/ember /usr/local/bin/ember
LABEL com.amazonaws.sagemaker.capabilities.accept-bind-to-port=true
LABEL com.amazonaws.sagemaker.capabilities.multi-models=false
ENV RUST_LOG=info
EXPOSE 8080
USER ember
ENTRYPOINT ["/usr/local/bin/ember"]
CMD ["serve"]
