// Package app holds the web app's built files (dist/, written by
// scripts/web.sh from the TypeScript in src/) for the webgateway to serve.
// The repository keeps only a placeholder in dist/, so the package compiles
// before the app is built; Files then holds no index.html and the gateway
// answers a page that says how to build it.
//
// It imports only the standard library.
package app

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// Files is the build: index.html and assets/ at its root.
func Files() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // "dist" is a valid path: never reached
	}
	return sub
}

// Built reports whether Files holds a build (index.html).
func Built() bool {
	_, err := fs.Stat(Files(), "index.html")
	return err == nil
}
