#!/bin/sh
echo run
