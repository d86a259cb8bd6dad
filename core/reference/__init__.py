"""Reference trees every floor needs: regions (GB/T 2260), product categories and floors."""
