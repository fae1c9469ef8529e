<?php namespace App; class A {}
