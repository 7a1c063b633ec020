# The plexus binary, static, in an empty image with the CA roots, run as a
# non-root user.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/plexus ./cmd/plexus

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/
COPY --from=build /out/plexus /usr/local/bin/plexus
USER 65532:65532
ENV PLEXUS_HOME=/tmp/plexus
ENTRYPOINT ["/usr/local/bin/plexus"]
