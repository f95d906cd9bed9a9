#!/usr/bin/env python3
"""The rows of an Excel workbook's first sheet as openpyxl (a reader no one here wrote)
reads them, as JSON: numbers as numbers, empty cells as null.

Usage: xlsx_rows.py FILE.xlsx
"""
import json
import sys

import openpyxl

sheet = openpyxl.load_workbook(sys.argv[1], read_only=True).worksheets[0]
print(json.dumps([list(row) for row in sheet.iter_rows(values_only=True)]))
